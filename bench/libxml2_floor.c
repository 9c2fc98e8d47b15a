/*
 * The floor under any libxml2-based JUnit parser: libxml2's SAX2 push parser
 * reading a file with callbacks that do nothing, on one thread, with the options
 * and chunk size testbridge uses (Sources/JUnit/JUnitParser.swift). What
 * testbridge takes beyond this on one thread is its own work.
 *
 *   cc -O2 bench/libxml2_floor.c $(pkg-config --cflags --libs libxml-2.0) -o floor
 *   ./floor FILE   # prints the number of start tags; exits 3 when the file is not well formed
 */
#include <fcntl.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { CHUNK = 64 * 1024 };

/* Counting start tags keeps the callback from being optimised away and gives a figure
 * to check: nothing else is read. */
static void start_element(void *user, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                          int namespaces, const xmlChar **ns, int attributes, int defaulted,
                          const xmlChar **values) {
  (void)localname, (void)prefix, (void)uri, (void)namespaces, (void)ns, (void)attributes, (void)defaulted,
      (void)values;
  ++*(unsigned long *)user;
}

static void end_element(void *user, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri) {
  (void)user, (void)localname, (void)prefix, (void)uri;
}

static void characters(void *user, const xmlChar *text, int length) { (void)user, (void)text, (void)length; }

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 64;
  }
  int descriptor = open(argv[1], O_RDONLY);
  if (descriptor < 0) {
    perror(argv[1]);
    return 3;
  }
  xmlSAXHandler handler;
  memset(&handler, 0, sizeof handler);
  handler.initialized = XML_SAX2_MAGIC;
  handler.startElementNs = start_element;
  handler.endElementNs = end_element;
  handler.characters = characters;
  handler.cdataBlock = characters;

  unsigned long starts = 0;
  static char buffer[CHUNK];
  xmlParserCtxtPtr context = xmlCreatePushParserCtxt(&handler, &starts, NULL, 0, argv[1]);
  xmlCtxtUseOptions(context, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  ssize_t count;
  int failed = 0;
  while (!failed && (count = read(descriptor, buffer, CHUNK)) > 0) failed = xmlParseChunk(context, buffer, (int)count, 0) != 0;
  if (!failed) failed = xmlParseChunk(context, NULL, 0, 1) != 0;
  failed = failed || !context->wellFormed;
  xmlFreeParserCtxt(context);
  close(descriptor);
  printf("%lu start tags\n", starts);
  return failed ? 3 : 0;
}
