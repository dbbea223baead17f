/**
 * \file
 * The linear model of a mail server's DNS load and the flags, for
 * dnswarden-mailwatch(8).
 *
 * Model (Musashi, Matsuba, Sugitani: slides on DNS and SMTP/POP3 accesses,
 * 2003; "Statistical Analysis in Logs of DNS Traffic and E-mail Server",
 * IPSJ SIG Notes 2003): D_q = a N_c + b N_P and N_f = c N_c, starting from
 * the studies' a = 8.8, b = 1, c = 0.95, refitted by least squares (through
 * the origin, as the studies write it) over the baseline intervals. The Mail
 * Exchanging Efficiency is MEE = N_f / N_c.
 *
 * Flags, after the baseline:
 *  - mee_low: MEE below its floor (mee_floor, else half the baseline's MEE)
 *    while D_q exceeds dq_factor times its expected value (spam run, SMTP
 *    DoS of rejected recipients);
 *  - deferred: deferred deliveries above twice the baseline's mean (and at
 *    least 3) while D_q exceeds dq_factor times its expected value
 *    (mass-mailing worms inside the campus, remote servers refusing us).
 * Intervals whose D_q is unknown or below min_dq are never flagged.
 *
 * Cost: O(1) per interval. Thread safety: plain data, caller's.
 */
#ifndef DW_MAILWATCH_MODEL_H
#define DW_MAILWATCH_MODEL_H

#include <stdint.h>

#define MWM_SEED_A 8.8
#define MWM_SEED_B 1.0
#define MWM_SEED_C 0.95

/** One interval's counts. dq < 0: unknown (not in the module's series). */
struct mwm_counts {
	uint64_t nc, nf, nto, deferred, bounced, np;
	int64_t dq;
};

struct mwm_opts {
	double mee_floor; /**< 0: half the baseline's MEE */
	double dq_factor; /**< >= 1 */
	double min_dq;
};

struct mwm_model {
	double a, b, c;       /**< current coefficients */
	double base_mee;      /**< baseline N_f / N_c (0.70 until fitted) */
	double base_deferred; /**< baseline mean deferred per interval */
	unsigned n;           /**< baseline intervals learnt */
	int fitted;           /**< 1 after mwm_fit() found enough data */
	double s_cc, s_pp, s_cp, s_cd, s_pd, s_cf, s_c, s_f, s_def;
};

struct mwm_result {
	double mee;      /**< N_f / N_c; -1 when N_c = 0 */
	double expected; /**< a N_c + b N_P */
	double ratio;    /**< dq / max(expected, 1); -1 when dq unknown */
	int flagged;
	char why[32]; /**< "mee_low", "deferred", "mee_low+deferred", "" */
};

/** The studies' coefficients, nothing learnt. */
void mwm_init(struct mwm_model *m);
/** Add a baseline interval (ignored when its dq is unknown). */
void mwm_learn(struct mwm_model *m, const struct mwm_counts *c);
/** Least squares over what was learnt; keeps the seeds' values for a
 *  coefficient the data cannot determine. */
void mwm_fit(struct mwm_model *m);
/** Judge one interval; judge_flags 0 during the baseline (no flags). */
void mwm_judge(const struct mwm_model *m, const struct mwm_opts *o, const struct mwm_counts *c,
               int judge_flags, struct mwm_result *r);

#endif
