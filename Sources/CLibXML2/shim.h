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

#endif
