#ifndef TESTBRIDGE_CLIBXML2_SHIM_H
#define TESTBRIDGE_CLIBXML2_SHIM_H

// Debian builds libxml2 with ICU; its encoding.h then pulls <unicode/ucnv.h>,
// whose UErrorCode clashes with Foundation's _FoundationICU on clean builds.
// Reading xmlversion.h first and dropping the ICU flag avoids the clash; we
// never touch xmlCharEncodingHandler, whose layout this changes.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>

// `xmlFree` is a global function pointer; Swift 6 refuses to read it as a
// non-Sendable global, so calls go through this wrapper.
static inline void testbridge_xmlFree(void *pointer) { xmlFree(pointer); }

// Errors raised outside a parser context (encoding conversion, I/O) go to
// libxml2's generic error function, stderr by default, whatever the parser
// options say. The parse error itself is read from the context instead. Swift
// cannot define a C variadic function, hence this one.
static inline void testbridge_ignoreGenericError(void *context, const char *message, ...) {
  (void)context;
  (void)message;
}

// Silences generic errors on the calling thread (libxml2 keeps the setting per thread).
static inline void testbridge_silenceGenericErrors(void) {
  xmlSetGenericErrorFunc(NULL, testbridge_ignoreGenericError);
}

// Moves the unread rest of a push parser's input to the front of its buffer.
// Called before each chunk is pushed, when the rest is a few bytes: libxml2's
// own shrink runs after the push and moves the whole new chunk as well. Its
// saved search offset is relative to the buffer, so it restarts (as libxml2
// does after its own shrink). Newer libxml2 releases deprecate the call.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
static inline void testbridge_shrinkPushInput(xmlParserCtxtPtr context) {
  if (context == NULL || context->input == NULL || context->input->buf == NULL) return;
  xmlParserInputShrink(context->input);
  context->checkIndex = 0;
}
#pragma clang diagnostic pop

// Returns freed heap memory to the system, from every malloc arena (glibc).
// Counting a report on two threads fills two tables in two arenas; the
// second is emptied into the first, and its memory must not stay resident.
#include <malloc.h>
static inline void testbridge_releaseFreeMemory(void) { malloc_trim(0); }

#endif
