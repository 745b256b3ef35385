/* node_json.c - JSON writer for --json event lines (RFC 8259). */
#include "node_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void put(node_json *j, const char *s, size_t n) {
  if (j->err) {
    return;
  }
  /* Keep one byte for the terminating NUL. */
  if (n >= j->cap - j->len) {
    j->err = 1;
    return;
  }
  memcpy(j->buf + j->len, s, n);
  j->len += n;
}

static void putc1(node_json *j, char c) {
  put(j, &c, 1);
}

/*
 * Length of the well-formed UTF-8 sequence at s[0..left-1] (RFC 3629 §4
 * table: no overlongs, no surrogates, nothing above U+10FFFF), or 0.
 */
static size_t utf8_seq_len(const uint8_t *s, size_t left) {
  uint8_t c = s[0];
  uint8_t lo = 0x80, hi = 0xbf;
  size_t n;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) {
      lo = 0xa0;
    } else if (c == 0xed) {
      hi = 0x9f;
    }
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) {
      lo = 0x90;
    } else if (c == 0xf4) {
      hi = 0x8f;
    }
  } else {
    return 0;
  }
  if (left < n || s[1] < lo || s[1] > hi) {
    return 0;
  }
  for (size_t i = 2; i < n; i++) {
    if (s[i] < 0x80 || s[i] > 0xbf) {
      return 0;
    }
  }
  return n;
}

/* Append the escaped body of s[0..len-1] to j. */
static void put_escaped(node_json *j, const char *s, size_t len) {
  const uint8_t *p = (const uint8_t *)s;
  size_t i = 0;
  while (i < len) {
    uint8_t c = p[i];
    char tmp[8];
    if (c < 0x80) {
      switch (c) {
      case '"': put(j, "\\\"", 2); break;
      case '\\': put(j, "\\\\", 2); break;
      case '\b': put(j, "\\b", 2); break;
      case '\f': put(j, "\\f", 2); break;
      case '\n': put(j, "\\n", 2); break;
      case '\r': put(j, "\\r", 2); break;
      case '\t': put(j, "\\t", 2); break;
      default:
        if (c < 0x20 || c == 0x7f) {
          snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)c);
          put(j, tmp, 6);
        } else {
          putc1(j, (char)c);
        }
        break;
      }
      i++;
      continue;
    }
    size_t n = utf8_seq_len(p + i, len - i);
    if (n == 0) {
      put(j, "\\ufffd", 6);
      i++;
    } else {
      put(j, (const char *)p + i, n);
      i += n;
    }
  }
}

/* Separator and key before a value; checks the container kind. */
static void begin_value(node_json *j, const char *key) {
  if (j->err) {
    return;
  }
  if (j->depth <= 0) {
    j->err = 1;
    return;
  }
  int d = j->depth - 1;
  if ((key == NULL) != (j->is_arr[d] != 0)) {
    j->err = 1; /* keys only inside objects, never inside arrays */
    return;
  }
  if (!j->first[d]) {
    putc1(j, ',');
  }
  j->first[d] = 0;
  if (key) {
    putc1(j, '"');
    put_escaped(j, key, strlen(key));
    put(j, "\":", 2);
  }
}

static void open_container(node_json *j, int arr) {
  if (j->err) {
    return;
  }
  if (j->depth >= NODE_JSON_MAX_DEPTH) {
    j->err = 1;
    return;
  }
  putc1(j, arr ? '[' : '{');
  j->first[j->depth] = 1;
  j->is_arr[j->depth] = (uint8_t)arr;
  j->depth++;
}

static void close_container(node_json *j, int arr) {
  if (j->err) {
    return;
  }
  if (j->depth <= 0 || (j->is_arr[j->depth - 1] != 0) != (arr != 0)) {
    j->err = 1;
    return;
  }
  putc1(j, arr ? ']' : '}');
  j->depth--;
}

void node_json_init(node_json *j, char *buf, size_t cap) {
  memset(j, 0, sizeof(*j));
  j->buf = buf;
  j->cap = cap;
  if (cap == 0) {
    j->err = 1;
    return;
  }
  buf[0] = '\0';
  open_container(j, 0);
}

void node_json_obj_begin(node_json *j, const char *key) {
  begin_value(j, key);
  open_container(j, 0);
}

void node_json_arr_begin(node_json *j, const char *key) {
  begin_value(j, key);
  open_container(j, 1);
}

void node_json_obj_end(node_json *j) {
  close_container(j, 0);
}

void node_json_arr_end(node_json *j) {
  close_container(j, 1);
}

void node_json_strn(node_json *j, const char *key, const char *s, size_t len) {
  begin_value(j, key);
  putc1(j, '"');
  put_escaped(j, s, len);
  putc1(j, '"');
}

void node_json_str(node_json *j, const char *key, const char *s) {
  if (s == NULL) {
    node_json_null(j, key);
    return;
  }
  node_json_strn(j, key, s, strlen(s));
}

void node_json_u64(node_json *j, const char *key, uint64_t v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
  begin_value(j, key);
  put(j, tmp, (size_t)n);
}

void node_json_i64(node_json *j, const char *key, int64_t v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
  begin_value(j, key);
  put(j, tmp, (size_t)n);
}

void node_json_milli(node_json *j, const char *key, uint64_t thousandths) {
  char tmp[32];
  int n = snprintf(tmp, sizeof(tmp), "%" PRIu64 ".%03u", thousandths / 1000,
                   (unsigned)(thousandths % 1000));
  begin_value(j, key);
  put(j, tmp, (size_t)n);
}

void node_json_bool(node_json *j, const char *key, int v) {
  begin_value(j, key);
  if (v) {
    put(j, "true", 4);
  } else {
    put(j, "false", 5);
  }
}

void node_json_null(node_json *j, const char *key) {
  begin_value(j, key);
  put(j, "null", 4);
}

long node_json_finish(node_json *j) {
  close_container(j, 0);
  if (j->err || j->depth != 0) {
    if (j->cap > 0) {
      j->buf[0] = '\0';
    }
    return -1;
  }
  j->buf[j->len] = '\0';
  return (long)j->len;
}

long node_json_escape(char *out, size_t cap, const char *s, size_t len) {
  node_json j;
  memset(&j, 0, sizeof(j));
  j.buf = out;
  j.cap = cap;
  if (cap == 0) {
    return -1;
  }
  put_escaped(&j, s, len);
  if (j.err) {
    out[0] = '\0';
    return -1;
  }
  out[j.len] = '\0';
  return (long)j.len;
}
