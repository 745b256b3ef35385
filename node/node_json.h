/*
 * node_json.h - a small JSON writer for the node's --json event lines.
 *
 * One node_json builds one object into a caller buffer.  Values are added
 * with a key while inside an object and with key == NULL inside an array.
 * Strings are escaped per RFC 8259 §7: '"', '\\' and every control byte
 * below 0x20 (short forms \b \f \n \r \t, else \u00XX) and DEL as \u007f;
 * well-formed UTF-8 passes through, and every byte of an ill-formed
 * sequence (overlong, surrogate, > U+10FFFF, truncated) becomes \ufffd, so
 * any byte string (a peer's close reason, a host name) yields valid JSON.
 * Overflow and nesting errors are sticky: node_json_finish reports them
 * once at the end (aq_wbuf style).
 */
#ifndef NODE_JSON_H
#define NODE_JSON_H

#include <stddef.h>
#include <stdint.h>

#define NODE_JSON_MAX_DEPTH 8

typedef struct node_json {
  char *buf;
  size_t cap;
  size_t len;
  int err;                            /* sticky: 1 after overflow or misuse */
  int depth;                          /* open objects/arrays */
  uint8_t first[NODE_JSON_MAX_DEPTH]; /* 1 while the container at that depth is empty */
  uint8_t is_arr[NODE_JSON_MAX_DEPTH];
} node_json;

/** Start an object (writes '{') in buf[0..cap-1]. */
void node_json_init(node_json *j, char *buf, size_t cap);

/** Open a nested object / array under key (NULL inside an array). */
void node_json_obj_begin(node_json *j, const char *key);
void node_json_arr_begin(node_json *j, const char *key);
/** Close the innermost object / array (must match its kind). */
void node_json_obj_end(node_json *j);
void node_json_arr_end(node_json *j);

/** Add a string value: s is any NUL-terminated byte string. NULL writes null. */
void node_json_str(node_json *j, const char *key, const char *s);
/** Add a string value from len bytes (may hold NULs, escaped as \u0000). */
void node_json_strn(node_json *j, const char *key, const char *s, size_t len);
void node_json_u64(node_json *j, const char *key, uint64_t v);
void node_json_i64(node_json *j, const char *key, int64_t v);
void node_json_bool(node_json *j, const char *key, int v);
/** A number with three decimals (milliseconds as seconds, RTT in ms...). */
void node_json_milli(node_json *j, const char *key, uint64_t thousandths);
void node_json_null(node_json *j, const char *key);

/**
 * Close the top-level object and NUL-terminate.  Returns the length (no NUL)
 * or -1 if the buffer was too small or the nesting was wrong; buf then holds
 * "" (never a half object).
 */
long node_json_finish(node_json *j);

/**
 * Escape len bytes of s as a JSON string body (no quotes) into out (cap
 * bytes, NUL-terminated).  Returns the escaped length, or -1 if it does not
 * fit (out then holds "").
 */
long node_json_escape(char *out, size_t cap, const char *s, size_t len);

#endif
