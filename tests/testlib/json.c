/* json.c - a small JSON reader for test vectors (Wycheproof, ACVP). */
#include <stdlib.h>

#include "aq_test.h"

typedef struct jp {
  const char *p;
  const char *end;
  int depth;
} jp;

static aq_json *parse_value(jp *s);

static void skip_ws(jp *s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t')) {
    s->p++;
  }
}

static aq_json *new_node(aq_json_type t) {
  aq_json *j = calloc(1, sizeof(*j));
  if (j) {
    j->type = t;
  }
  return j;
}

static void put_utf8(char *out, size_t *n, unsigned cp) {
  if (cp < 0x80) {
    out[(*n)++] = (char)cp;
  } else if (cp < 0x800) {
    out[(*n)++] = (char)(0xc0 | (cp >> 6));
    out[(*n)++] = (char)(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out[(*n)++] = (char)(0xe0 | (cp >> 12));
    out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[(*n)++] = (char)(0x80 | (cp & 0x3f));
  } else {
    out[(*n)++] = (char)(0xf0 | (cp >> 18));
    out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[(*n)++] = (char)(0x80 | (cp & 0x3f));
  }
}

static int parse_hex4(const char *p, unsigned *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    *v <<= 4;
    if (c >= '0' && c <= '9') {
      *v |= (unsigned)(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      *v |= (unsigned)(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      *v |= (unsigned)(c - 'A' + 10);
    } else {
      return -1;
    }
  }
  return 0;
}

static char *parse_string(jp *s, size_t *outlen) {
  const char *start;
  char *out;
  size_t n = 0;
  if (s->p >= s->end || *s->p != '"') {
    return NULL;
  }
  start = ++s->p;
  while (s->p < s->end && *s->p != '"') {
    s->p += (*s->p == '\\') ? 2 : 1;
  }
  if (s->p >= s->end) {
    return NULL;
  }
  out = malloc((size_t)(s->p - start) + 4);
  if (out == NULL) {
    return NULL;
  }
  for (const char *q = start; q < s->p; q++) {
    if (*q != '\\') {
      out[n++] = *q;
      continue;
    }
    q++;
    switch (*q) {
    case 'n': out[n++] = '\n'; break;
    case 't': out[n++] = '\t'; break;
    case 'r': out[n++] = '\r'; break;
    case 'b': out[n++] = '\b'; break;
    case 'f': out[n++] = '\f'; break;
    case 'u': {
      unsigned cp;
      if (s->p - q < 5 || parse_hex4(q + 1, &cp) != 0) {
        free(out);
        return NULL;
      }
      q += 4;
      put_utf8(out, &n, cp);
      break;
    }
    default: out[n++] = *q; break;
    }
  }
  out[n] = '\0';
  s->p++; /* closing quote */
  *outlen = n;
  return out;
}

static int push(aq_json *j, char *key, aq_json *v) {
  aq_json **items = realloc(j->items, (j->n + 1) * sizeof(*items));
  if (items == NULL) {
    return -1;
  }
  j->items = items;
  if (j->type == AQ_JSON_OBJECT) {
    char **keys = realloc(j->keys, (j->n + 1) * sizeof(*keys));
    if (keys == NULL) {
      return -1;
    }
    j->keys = keys;
    j->keys[j->n] = key;
  }
  j->items[j->n++] = v;
  return 0;
}

static aq_json *parse_container(jp *s, int is_obj) {
  aq_json *j = new_node(is_obj ? AQ_JSON_OBJECT : AQ_JSON_ARRAY);
  char close = is_obj ? '}' : ']';
  if (j == NULL || ++s->depth > 64) {
    free(j);
    return NULL;
  }
  s->p++;
  skip_ws(s);
  if (s->p < s->end && *s->p == close) {
    s->p++;
    s->depth--;
    return j;
  }
  for (;;) {
    char *key = NULL;
    size_t klen;
    skip_ws(s);
    if (is_obj) {
      key = parse_string(s, &klen);
      skip_ws(s);
      if (key == NULL || s->p >= s->end || *s->p != ':') {
        free(key);
        goto fail;
      }
      s->p++;
    }
    aq_json *v = parse_value(s);
    if (v == NULL || push(j, key, v) != 0) {
      free(key);
      aq_json_free(v);
      goto fail;
    }
    skip_ws(s);
    if (s->p < s->end && *s->p == ',') {
      s->p++;
      continue;
    }
    if (s->p < s->end && *s->p == close) {
      s->p++;
      s->depth--;
      return j;
    }
    goto fail;
  }
fail:
  aq_json_free(j);
  return NULL;
}

static aq_json *parse_value(jp *s) {
  aq_json *j;
  skip_ws(s);
  if (s->p >= s->end) {
    return NULL;
  }
  switch (*s->p) {
  case '{': return parse_container(s, 1);
  case '[': return parse_container(s, 0);
  case '"':
    j = new_node(AQ_JSON_STRING);
    if (j && (j->str = parse_string(s, &j->strlen)) == NULL) {
      free(j);
      return NULL;
    }
    return j;
  case 't':
  case 'f':
  case 'n': {
    static const char *words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
      size_t wl = strlen(words[i]);
      if ((size_t)(s->end - s->p) >= wl && memcmp(s->p, words[i], wl) == 0) {
        s->p += wl;
        j = new_node(i == 2 ? AQ_JSON_NULL : AQ_JSON_BOOL);
        if (j) {
          j->num = i == 0;
        }
        return j;
      }
    }
    return NULL;
  }
  default: {
    char buf[64];
    size_t n = 0;
    while (s->p < s->end && n < sizeof(buf) - 1 && strchr("+-0123456789.eE", *s->p)) {
      buf[n++] = *s->p++;
    }
    if (n == 0) {
      return NULL;
    }
    buf[n] = '\0';
    j = new_node(AQ_JSON_NUMBER);
    if (j) {
      j->num = strtod(buf, NULL);
    }
    return j;
  }
  }
}

aq_json *aq_json_parse(const char *text, size_t len) {
  jp s = {text, text + len, 0};
  aq_json *j = parse_value(&s);
  skip_ws(&s);
  if (j && s.p != s.end) {
    aq_json_free(j);
    return NULL;
  }
  return j;
}

aq_json *aq_json_load_vector(const char *relpath) {
  char *path = aq_test_vector_path(relpath);
  size_t len;
  char *text;
  aq_json *j;
  if (path == NULL) {
    return NULL;
  }
  text = aq_test_read_file(path, &len);
  free(path);
  if (text == NULL) {
    return NULL;
  }
  j = aq_json_parse(text, len);
  free(text);
  if (j == NULL) {
    aq_test_fail(__FILE__, __LINE__, "cannot parse JSON vector file %s", relpath);
  }
  return j;
}

void aq_json_free(aq_json *j) {
  if (j == NULL) {
    return;
  }
  for (size_t i = 0; i < j->n; i++) {
    aq_json_free(j->items[i]);
    if (j->keys) {
      free(j->keys[i]);
    }
  }
  free(j->items);
  free(j->keys);
  free(j->str);
  free(j);
}

const aq_json *aq_json_get(const aq_json *obj, const char *key) {
  if (obj == NULL || obj->type != AQ_JSON_OBJECT) {
    return NULL;
  }
  for (size_t i = 0; i < obj->n; i++) {
    if (strcmp(obj->keys[i], key) == 0) {
      return obj->items[i];
    }
  }
  return NULL;
}

const char *aq_json_get_str(const aq_json *obj, const char *key) {
  const aq_json *v = aq_json_get(obj, key);
  return (v && v->type == AQ_JSON_STRING) ? v->str : NULL;
}

long long aq_json_get_int(const aq_json *obj, const char *key, long long dflt) {
  const aq_json *v = aq_json_get(obj, key);
  return (v && (v->type == AQ_JSON_NUMBER || v->type == AQ_JSON_BOOL)) ? (long long)v->num : dflt;
}
