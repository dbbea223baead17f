/**
 * \file
 * Least squares and flags (model.h).
 */
#include <stdio.h>
#include <string.h>

#include "model.h"

void mwm_init(struct mwm_model *m)
{
	memset(m, 0, sizeof(*m));
	m->a = MWM_SEED_A;
	m->b = MWM_SEED_B;
	m->c = MWM_SEED_C;
	m->base_mee = 0.70; /* the slides' weekday average */
}

void mwm_learn(struct mwm_model *m, const struct mwm_counts *c)
{
	double nc = (double)c->nc, np = (double)c->np, dq = (double)c->dq;
	if (c->dq < 0)
		return;
	m->n++;
	m->s_cc += nc * nc;
	m->s_pp += np * np;
	m->s_cp += nc * np;
	m->s_cd += nc * dq;
	m->s_pd += np * dq;
	m->s_cf += nc * (double)c->nf;
	m->s_c += nc;
	m->s_f += (double)c->nf;
	m->s_def += (double)c->deferred;
}

/** Normal equations of dq = a nc + b np (through the origin); with no
 *  N_P in the baseline, b keeps the studies' 1 and a alone is fitted. */
void mwm_fit(struct mwm_model *m)
{
	double det = m->s_cc * m->s_pp - m->s_cp * m->s_cp;
	if (m->n == 0 || m->s_cc <= 0)
		return;
	if (m->s_pp > 0 && det > 1e-9 * m->s_cc * m->s_pp) {
		m->a = (m->s_cd * m->s_pp - m->s_pd * m->s_cp) / det;
		m->b = (m->s_pd * m->s_cc - m->s_cd * m->s_cp) / det;
	} else
		m->a = (m->s_cd - m->b * m->s_cp) / m->s_cc;
	m->c = m->s_cf / m->s_cc;
	m->base_mee = m->s_f / m->s_c;
	m->base_deferred = m->s_def / m->n;
	m->fitted = 1;
}

void mwm_judge(const struct mwm_model *m, const struct mwm_opts *o, const struct mwm_counts *c,
               int judge_flags, struct mwm_result *r)
{
	double floor = o->mee_floor > 0 ? o->mee_floor : m->base_mee / 2;
	double def_limit = 2 * m->base_deferred < 3 ? 3 : 2 * m->base_deferred;
	int dq_high, mee_low, def_high;

	memset(r, 0, sizeof(*r));
	r->mee = c->nc ? (double)c->nf / (double)c->nc : -1;
	r->expected = m->a * (double)c->nc + m->b * (double)c->np;
	if (r->expected < 0)
		r->expected = 0;
	r->ratio = c->dq < 0 ? -1 : (double)c->dq / (r->expected > 1 ? r->expected : 1);
	if (!judge_flags || c->dq < 0 || (double)c->dq < o->min_dq)
		return;
	dq_high = (double)c->dq > o->dq_factor * r->expected;
	mee_low = c->nc > 0 && r->mee < floor;
	def_high = (double)c->deferred >= def_limit;
	if (dq_high && mee_low && def_high)
		snprintf(r->why, sizeof(r->why), "mee_low+deferred");
	else if (dq_high && mee_low)
		snprintf(r->why, sizeof(r->why), "mee_low");
	else if (dq_high && def_high)
		snprintf(r->why, sizeof(r->why), "deferred");
	r->flagged = r->why[0] != '\0';
}
