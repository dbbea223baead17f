/**
 * \file
 * The exemption list (exempt.h).
 */
#include "exempt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct item {
	struct dw_cidr c;
	bool runtime; /* added at run time (else from the config) */
};

struct dw_exempt {
	pthread_mutex_t mu; /* guards everything below */
	struct item *v;
	size_t n, cap;
	struct dw_cidr *removed; /* config prefixes removed at run time */
	size_t nremoved, capremoved;
};

/** Same prefix, same length. */
static bool cidr_equal(const struct dw_cidr *a, const struct dw_cidr *b)
{
	return a->len == b->len && dw_addr_equal(&a->addr, &b->addr);
}

/** Grow an array of elem-sized items to hold one more. */
static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
	void *nv;
	size_t ncap;
	if (n < *cap)
		return 0;
	if (n >= DW_EXEMPT_MAX)
		return -1;
	ncap = *cap ? *cap * 2 : 16;
	nv = realloc(*v, ncap * elem);
	if (!nv)
		return -1;
	*v = nv;
	*cap = ncap;
	return 0;
}

/** Start from the config's list. */
struct dw_exempt *dw_exempt_new(const struct dw_conf *conf)
{
	struct dw_exempt *x = calloc(1, sizeof(*x));
	size_t i;
	if (!x)
		return NULL;
	pthread_mutex_init(&x->mu, NULL);
	for (i = 0; i < conf->exempt_count; i++) {
		if (grow((void **)&x->v, &x->cap, x->n, sizeof(*x->v)) != 0) {
			dw_exempt_free(x);
			return NULL;
		}
		x->v[x->n].c = conf->exempt[i];
		x->v[x->n++].runtime = false;
	}
	return x;
}

/** Free the list. */
void dw_exempt_free(struct dw_exempt *x)
{
	if (!x)
		return;
	pthread_mutex_destroy(&x->mu);
	free(x->v);
	free(x->removed);
	free(x);
}

/** Linear scan: short lists, rare calls. */
bool dw_exempt_match(struct dw_exempt *x, const struct dw_addr *a)
{
	bool hit = false;
	size_t i;
	pthread_mutex_lock(&x->mu);
	for (i = 0; i < x->n && !hit; i++)
		hit = dw_cidr_match(&x->v[i].c, a);
	pthread_mutex_unlock(&x->mu);
	return hit;
}

/** Index of c in the list, or -1. */
static long find(const struct dw_exempt *x, const struct dw_cidr *c)
{
	size_t i;
	for (i = 0; i < x->n; i++)
		if (cidr_equal(&x->v[i].c, c))
			return (long)i;
	return -1;
}

/** Add at run time (re-adding a removed config prefix restores it). */
int dw_exempt_add(struct dw_exempt *x, const struct dw_cidr *c)
{
	int rc = 1;
	size_t i;
	pthread_mutex_lock(&x->mu);
	if (find(x, c) >= 0) {
		rc = 0;
	} else if (grow((void **)&x->v, &x->cap, x->n, sizeof(*x->v)) != 0) {
		rc = -1;
	} else {
		bool was_config = false;
		for (i = 0; i < x->nremoved; i++)
			if (cidr_equal(&x->removed[i], c)) {
				x->removed[i] = x->removed[--x->nremoved];
				was_config = true;
				break;
			}
		x->v[x->n].c = *c;
		x->v[x->n++].runtime = !was_config;
	}
	pthread_mutex_unlock(&x->mu);
	return rc;
}

/** Remove; a config prefix is remembered as removed so the state says so. */
int dw_exempt_remove(struct dw_exempt *x, const struct dw_cidr *c)
{
	int rc = 0;
	long i;
	pthread_mutex_lock(&x->mu);
	i = find(x, c);
	if (i >= 0) {
		rc = 1;
		if (!x->v[i].runtime &&
		    grow((void **)&x->removed, &x->capremoved, x->nremoved, sizeof(*x->removed)) == 0)
			x->removed[x->nremoved++] = *c;
		x->v[i] = x->v[--x->n];
	}
	pthread_mutex_unlock(&x->mu);
	return rc;
}

/** Visit every prefix. */
void dw_exempt_foreach(struct dw_exempt *x,
		       void (*fn)(void *arg, const struct dw_cidr *c, const char *origin), void *arg)
{
	size_t i;
	pthread_mutex_lock(&x->mu);
	for (i = 0; i < x->n; i++)
		fn(arg, &x->v[i].c, x->v[i].runtime ? "runtime" : "config");
	pthread_mutex_unlock(&x->mu);
}

/** The run-time delta against the config. */
void dw_exempt_save(struct dw_exempt *x, FILE *f)
{
	char buf[DW_ADDR_STRLEN];
	size_t i;
	pthread_mutex_lock(&x->mu);
	for (i = 0; i < x->n; i++)
		if (x->v[i].runtime) {
			dw_cidr_format(&x->v[i].c, buf, sizeof(buf));
			fprintf(f, "exempt + %s\n", buf);
		}
	for (i = 0; i < x->nremoved; i++) {
		dw_cidr_format(&x->removed[i], buf, sizeof(buf));
		fprintf(f, "exempt - %s\n", buf);
	}
	pthread_mutex_unlock(&x->mu);
}

/** Replay a saved change. */
int dw_exempt_load_line(struct dw_exempt *x, const char *line, char *err, size_t errlen)
{
	char op, text[DW_ADDR_STRLEN + 8];
	struct dw_cidr c;
	if (sscanf(line, "exempt %c %71s", &op, text) != 2 || (op != '+' && op != '-') ||
	    dw_cidr_parse(text, &c) != 0) {
		snprintf(err, errlen, "malformed exempt line");
		return -1;
	}
	if (op == '+')
		return dw_exempt_add(x, &c) < 0 ? (snprintf(err, errlen, "exempt list full"), -1) : 0;
	dw_exempt_remove(x, &c);
	return 0;
}
