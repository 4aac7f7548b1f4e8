/* bd_grid.c — the Bellman Diffusion agent on a grid, bd.field grid (see
 * bd_grid.h for the algorithm). */
/* The forward-only head's elementwise loops must vectorize (as in mlp.c). */
#pragma GCC optimize("-ftree-vectorize", "-fvect-cost-model=dynamic", "-fno-trapping-math")
#include "agents/bd_grid.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/scratch.h"
#include "agents/torso.h"
#include "fields/adam.h"
#include "fields/fourier.h"
#include "fields/loss.h"

/* Rows per pass of the forward-only head evaluator: big enough for GEMMs to
 * run at speed, small enough for the activations to stay in cache. */
#define HEAD_CHUNK 1024
/* Largest number of (transition, query) rows one update may have. */
#define MAX_ROWS (1 << 22)

typedef struct {
    mlp *torso, *head;       /* online */
    mlp *torso_t, *head_t;   /* target */
    mlp *torso_e, *head_e;   /* moving average of online (agent.ema > 0), else NULL */
    adam *opt_torso, *opt_head;
    double scale;            /* field value = scale · head output */
} grid_fnet;

/* Everything the scratch sizes depend on, from the configuration alone. */
typedef struct {
    int in, A, E, F, nin;    /* encoded width, actions, embedding, Fourier features, head input E + F */
    int B, QC, Q;            /* batch, states per q_values chunk (2B), queries */
    int G, Gq;               /* bd.grid, points of the query-law grid (bd.query_grid) */
    int H1, hmax;            /* the head's first layer width, its widest layer after the input */
    int hsize;               /* hash slots of distinct_states: 2·QC rounded up to a power of 2 */
    int xrows;               /* rows of X: the widest chunk fields_at's reference path takes */
    int fields, grad_scalar; /* bd.target_mode fields; bd.grad_target scalar */
} grid_sizes;

typedef struct {
    torso_encoding te;
    grid_sizes z;              /* what the scratch table sizes from (scratch_table) */
    int A, E, K, F, nin;     /* actions, embedding, Fourier K, 1 + 2K, E + F */
    double fl;               /* Fourier half-period L: the grid range's half-width */
    int Bmax, Q, G, QC;      /* batch, queries, grid, states per q_values chunk */
    bd_geometry geo;
    bd_grid_settings set;
    double lambda;
    double ema;              /* agent.ema: decay of the reported networks' average */
    int double_q;            /* agent.double: a' from the online scalar field */
    grid_fnet f[2];
    rng *rq, *rt;            /* query points; jitter and target samples */
    char desc[512];

    /* scratch, all sized at create (scratch_table) */
    real *enc;               /* (QC, in_dim): [s; s'] in an update */
    real *emb;               /* (QC, E): scalar torso output for grids */
    real *emb_u;             /* (QC, E): the distinct states' rows of emb */
    int *gmap;               /* (QC): row of emb -> its distinct state's grid block */
    int *htab;               /* (z.hsize + QC): hash slots, −1 empty, then first members */
    real *emb_g;             /* (Bmax, E): gradient torso output at s' (fields, bd.grad_target gradient) */
    real *grid_u;            /* (G) */
    real *grid_f;            /* (G, F) Fourier features of the grid, computed once */
    real *qgrid_u, *qgrid_f; /* (z.Gq), (z.Gq, F): the query-law grid (bd.query_grid) */
    real *gridq;             /* (Bmax·z.Gq, A): the target head at the batch's s on that grid */
    real *gridv;             /* (QC·G, A): head outputs on the grid */
    double *cum;             /* (G) running sums of s₊ */
    double *mass_next, *qsa, *b_off, *u_r; /* (Bmax) */
    double *disc;            /* (Bmax) each transition's discount γ_i (agent.gamma without one) */
    int *a_next;             /* (Bmax) */
    double *uq, *vq;         /* (Bmax·Q) query points, jittered points */
    real *uq_r, *wq_r;       /* (Bmax·Q) query points and mapped points as reals */
    real *sn, *gn;           /* (Bmax·Q, A) target heads at the mapped points (fields) */
    real *wd_r, *sd;         /* (Bmax·Q), (Bmax·Q, A): fields, bd.grad_target scalar's second point */
    double *s1, *g1, *x2;    /* (Q) one transition's next-state values (fields) / samples (samples) */
    double *tt, *tdt;        /* (Bmax·Q) targets */
    real *tr;                /* (Bmax·Q) targets over the output scale */
    real *wr;                /* (Bmax·Q) each row's importance weight (the batch's, per transition) */
    int *col;                /* (Bmax·Q) the taken action of each row */
    real *X;                 /* (z.xrows, nin) head input of fields_at's reference path */
    real *Xf;                /* (Bmax·Q, F) Fourier rows of an update's query points */
    real *demb;              /* (Bmax, E) */
    /* forward-only head evaluator */
    real *P;                 /* (QC, H1) embedding part of layer 1, bias included */
    real *WFs;               /* (HEAD_CHUNK, H1) Fourier part for shared points */
    real *Fb;                /* (HEAD_CHUNK, F) */
    real *Z0, *Z1;           /* (HEAD_CHUNK, z.hmax) */
    real *ub, *ub2;          /* (HEAD_CHUNK) */
    real *yb;                /* (HEAD_CHUNK, A) */
    /* one state (distribution, sampler, eval_fields) */
    real *emb1_s, *emb1_g;   /* (E) */
    double *dist_x, *dist_w; /* (G) */
} grid_agent;

static grid_agent *impl(const agent *a) { return (grid_agent *)a->impl; }

/* ---------------------------------------------------------------------- */
/* the scratch table                                                       */

static grid_sizes sizes_of(const exp_config *cfg, const env *en)
{
    grid_sizes z = {0};
    const exp_widths *th = &cfg->agent.hidden, *hh = &cfg->bd.head;
    z.in = torso_encoding_for(en).in_dim;
    z.A = env_n_actions(en);
    z.E = th->n > 0 ? th->w[th->n - 1] : z.in; /* torso_spec's last layer */
    z.F = fourier_dim(cfg->bd.fourier_k);
    z.nin = z.E + z.F;
    z.B = cfg->train.batch_size;
    z.QC = 2 * z.B;
    z.Q = cfg->bd.queries;
    z.G = cfg->bd.grid;
    z.Gq = cfg->bd.query_grid > 0 && cfg->bd.query_grid < z.G ? cfg->bd.query_grid : z.G;
    z.H1 = hh->n > 0 ? hh->w[0] : z.A;
    z.hmax = z.A;
    for (int l = 0; l < hh->n; l++)
        if (hh->w[l] > z.hmax)
            z.hmax = hh->w[l];
    for (z.hsize = 4; z.hsize < 2 * z.QC; z.hsize *= 2)
        ;
    /* fields_at's reference chunk: min(head rows, HEAD_CHUNK) over the heads
     * it reads, online and target (Bmax·Q rows) and the average (HEAD_CHUNK) */
    long BQ = (long)z.B * z.Q;
    z.xrows = cfg->agent.ema > 0 || BQ > HEAD_CHUNK ? HEAD_CHUNK : (int)BQ;
    z.fields = cfg->bd.target_mode == TARGET_FIELDS;
    z.grad_scalar = cfg->bd.grad_target == BD_GRAD_TARGET_SCALAR;
    return z;
}

#define GRID_MAX_SCRATCH 50 /* 42 rows always, at most 6 more by mode */
#define ROW(field, type, n) SCRATCH_ROW(grid_agent, field, type, n)

/* The scratch buffers for sizes z into t (GRID_MAX_SCRATCH rows); returns
 * their number. This table alone drives allocation (create), release
 * (free) and the scratch part of the memory estimate (bd_grid_scratch_bytes), so
 * the three cannot drift apart (scratch.h). The targets' buffers exist only
 * for the bd.target_mode and bd.grad_target that read them (prepare_targets:
 * sn, gn, s1, g1 for fields, x2 for samples; wd_r, sd or emb_g for the
 * gradient field's target). */
static int scratch_table(const grid_sizes *z, scratch_row *t)
{
    size_t B = (size_t)z->B, QC = (size_t)z->QC, Q = (size_t)z->Q, BQ = B * Q, A = (size_t)z->A;
    size_t E = (size_t)z->E, F = (size_t)z->F, G = (size_t)z->G, Gq = (size_t)z->Gq, C = HEAD_CHUNK;
    int n = 0;
    t[n++] = ROW(enc, real, QC * z->in);
    t[n++] = ROW(emb, real, QC * E);
    t[n++] = ROW(emb_u, real, QC * E);
    t[n++] = ROW(gmap, int, QC);
    t[n++] = ROW(htab, int, (size_t)z->hsize + QC);
    t[n++] = ROW(grid_u, real, G);
    t[n++] = ROW(grid_f, real, G * F);
    t[n++] = ROW(qgrid_u, real, Gq);
    t[n++] = ROW(qgrid_f, real, Gq * F);
    t[n++] = ROW(gridq, real, B * Gq * A);
    t[n++] = ROW(gridv, real, QC * G * A);
    t[n++] = ROW(cum, double, G);
    t[n++] = ROW(mass_next, double, B);
    t[n++] = ROW(qsa, double, B);
    t[n++] = ROW(b_off, double, B);
    t[n++] = ROW(u_r, double, B);
    t[n++] = ROW(disc, double, B);
    t[n++] = ROW(a_next, int, B);
    t[n++] = ROW(uq, double, BQ);
    t[n++] = ROW(vq, double, BQ);
    t[n++] = ROW(uq_r, real, BQ);
    t[n++] = ROW(wq_r, real, BQ);
    t[n++] = ROW(tt, double, BQ);
    t[n++] = ROW(tdt, double, BQ);
    t[n++] = ROW(tr, real, BQ);
    t[n++] = ROW(wr, real, BQ);
    t[n++] = ROW(col, int, BQ);
    t[n++] = ROW(X, real, (size_t)z->xrows * z->nin);
    t[n++] = ROW(Xf, real, BQ * F);
    t[n++] = ROW(demb, real, B * E);
    t[n++] = ROW(P, real, QC * z->H1);
    t[n++] = ROW(WFs, real, C * z->H1);
    t[n++] = ROW(Fb, real, C * F);
    t[n++] = ROW(Z0, real, C * z->hmax);
    t[n++] = ROW(Z1, real, C * z->hmax);
    t[n++] = ROW(ub, real, C);
    t[n++] = ROW(ub2, real, C);
    t[n++] = ROW(yb, real, C * A);
    t[n++] = ROW(emb1_s, real, E);
    t[n++] = ROW(emb1_g, real, E);
    t[n++] = ROW(dist_x, double, G);
    t[n++] = ROW(dist_w, double, G);
    if (!z->fields) {
        t[n++] = ROW(x2, double, Q);
        return n;
    }
    t[n++] = ROW(sn, real, BQ * A);
    t[n++] = ROW(gn, real, BQ * A);
    t[n++] = ROW(s1, double, Q);
    t[n++] = ROW(g1, double, Q);
    if (z->grad_scalar) {
        t[n++] = ROW(wd_r, real, BQ);
        t[n++] = ROW(sd, real, BQ * A);
    } else {
        t[n++] = ROW(emb_g, real, B * E);
    }
    return n;
}
#undef ROW

double bd_grid_scratch_bytes(const exp_config *cfg, const env *en)
{
    grid_sizes z = sizes_of(cfg, en);
    scratch_row t[GRID_MAX_SCRATCH];
    return scratch_bytes(t, scratch_table(&z, t));
}

/* ---------------------------------------------------------------------- */
/* forward-only head evaluation                                            */

/* The activations of mlp.h, for the forward-only path: Z (n, w) <- σ(Z + b)
 * (b (w) or NULL). Float libm versions for the smooth ones: they differ from
 * mlp.c's vectorized ones by a few ulp, far below anything a density target
 * resolves; ReLU, the default, is exact (and branch-free, NaN passing
 * through as in mlp.c). */
static void bias_act(mlp_act a, real *Z, const real *b, int n, int w)
{
    for (int r = 0; r < n; r++) {
        real *z = Z + (size_t)r * w;
        if (b)
            for (int j = 0; j < w; j++)
                z[j] += b[j];
        switch (a) {
        case MLP_LINEAR:
        case MLP_ACT_COUNT:
            break;
        case MLP_RELU:
            for (int j = 0; j < w; j++)
                z[j] = z[j] < 0 ? (real)0 : z[j];
            break;
        case MLP_TANH:
            for (int j = 0; j < w; j++)
                z[j] = rtanh(z[j]);
            break;
        case MLP_SILU:
            for (int j = 0; j < w; j++)
                z[j] = z[j] / (1 + rexp(-z[j]));
            break;
        case MLP_SOFTPLUS:
            for (int j = 0; j < w; j++)
                z[j] = z[j] > 0 ? z[j] + rlog1p(rexp(-z[j])) : rlog1p(rexp(z[j]));
            break;
        }
    }
}

/* y (ns·per, A) = head([emb_{r / per}, fourier(u_r)]) for rows r, where
 * u_r = u[r % per] if shared (the same points for every state, e.g. the grid)
 * else u[r]. The first layer is split: W0 [emb, f] = W0_e emb + W0_f f, the
 * embedding part once per state, so a row costs only its Fourier part and the
 * layers above. ns <= QC. u must not be ba->ub. */
static void head_eval(grid_agent *ba, const mlp *head, int ns, const real *emb, int per, const real *u,
                      int shared, real *y)
{
    int E = ba->E, F = ba->F, nin = ba->nin, A = ba->A, L = head->spec.n_layers;
    int H1 = head->spec.sizes[1];
    const real *W0 = head->W[0], *b0 = head->b[0];
    rgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ns, H1, E, 1, emb, E, W0, nin, 0, ba->P, H1);
    for (int s = 0; s < ns; s++)
        raxpy(H1, 1, b0, 1, ba->P + (size_t)s * H1, 1);
    int pre = shared && per <= HEAD_CHUNK;
    if (pre) {
        const real *f = u == ba->grid_u ? ba->grid_f : u == ba->qgrid_u ? ba->qgrid_f : NULL;
        if (!f) {
            fourier_features(per, u, ba->K, ba->fl, ba->Fb, F, NULL, 0);
            f = ba->Fb;
        }
        rgemm(CblasRowMajor, CblasNoTrans, CblasTrans, per, H1, F, 1, f, F, W0 + E, nin, 0, ba->WFs, H1);
    }
    long rows = (long)ns * per;
    mlp_act a0 = L == 1 ? head->spec.out_act : head->spec.act;
    int relu0 = a0 == MLP_RELU; /* the common case, fused into the sum below */
    for (long r0 = 0; r0 < rows; r0 += HEAD_CHUNK) {
        int n = rows - r0 < HEAD_CHUNK ? (int)(rows - r0) : HEAD_CHUNK;
        real *Z = ba->Z0, *Zn = ba->Z1;
        if (!pre) {
            for (int i = 0; i < n; i++)
                ba->ub[i] = shared ? u[(r0 + i) % per] : u[r0 + i];
            fourier_features(n, ba->ub, ba->K, ba->fl, ba->Fb, F, NULL, 0);
            rgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, H1, F, 1, ba->Fb, F, W0 + E, nin, 0, Z, H1);
        }
        for (int i = 0; i < n; i++) {
            long r = r0 + i;
            const real *p = ba->P + (size_t)(r / per) * H1;
            const real *q = pre ? ba->WFs + (size_t)(r % per) * H1 : Z + (size_t)i * H1;
            real *z = Z + (size_t)i * H1;
            if (relu0)
                for (int j = 0; j < H1; j++) {
                    real v = p[j] + q[j];
                    z[j] = v < 0 ? (real)0 : v;
                }
            else
                for (int j = 0; j < H1; j++)
                    z[j] = p[j] + q[j];
        }
        if (!relu0)
            bias_act(a0, Z, NULL, n, H1);
        if (L == 1) {
            memcpy(y + (size_t)r0 * A, Z, sizeof(real) * (size_t)n * A);
            continue;
        }
        for (int l = 1; l < L; l++) {
            int in = head->spec.sizes[l], out = head->spec.sizes[l + 1];
            real *dst = l == L - 1 ? y + (size_t)r0 * A : Zn;
            rgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1, Z, in, head->W[l], in, 0, dst, out);
            bias_act(l == L - 1 ? head->spec.out_act : head->spec.act, dst, head->b[l], n, out);
            real *t = Z;
            Z = Zn;
            Zn = t;
        }
    }
}

/* Torso on ns encoded states (ns <= QC), then the head on the grid:
 * emb_out (ns, E), gridv (ns·G, A) raw head outputs. */
static void grid_eval(grid_agent *ba, mlp *torso, const mlp *head, int ns, const real *enc, real *emb_out)
{
    const real *e = mlp_forward(torso, ns, enc);
    memcpy(emb_out, e, sizeof(real) * (size_t)ns * ba->E);
    head_eval(ba, head, ns, emb_out, ba->G, ba->grid_u, 1, ba->gridv);
}

/* Distinct rows of enc (n, in_dim), bit for bit: gmap[i] (n) is the index
 * of row i's class, classes numbered in order of first appearance; the emb
 * row of each class's first member goes to emb_u (classes, E). Returns the
 * number of classes. Tabular environments repeat states within a batch
 * (FrozenLake has 16), so the grid, the dominant cost of an update, runs
 * once per distinct state; continuous states cost a hash per row. Scratch:
 * ba->htab. */
static int distinct_states(grid_agent *ba, int n, const real *enc, const real *emb, int *gmap, real *emb_u)
{
    int in = ba->te.in_dim, E = ba->E, nu = 0, *first = ba->htab + ba->z.hsize;
    size_t bytes = sizeof(real) * (size_t)in;
    for (int j = 0; j < ba->z.hsize; j++)
        ba->htab[j] = -1;
    for (int i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)(enc + (size_t)i * in);
        uint64_t hsh = 1469598103934665603ull;
        for (size_t k = 0; k < bytes; k++)
            hsh = (hsh ^ p[k]) * 1099511628211ull;
        size_t slot = (size_t)(hsh & (uint64_t)(ba->z.hsize - 1));
        for (;;) {
            int c = ba->htab[slot];
            if (c < 0) {
                ba->htab[slot] = nu;
                first[nu] = i;
                memcpy(emb_u + (size_t)nu * E, emb + (size_t)i * E, sizeof(real) * E);
                gmap[i] = nu++;
                break;
            }
            if (!memcmp(enc + (size_t)first[c] * in, p, bytes)) {
                gmap[i] = c;
                break;
            }
            slot = (slot + 1) & (size_t)(ba->z.hsize - 1);
        }
    }
    return nu;
}

/* The scalar field's column a at state i of gv, raw head outputs (states,
 * Gp, A) on Gp points over the grid range (the grid, or the query grid):
 * bd_grid_mean's mean (u units), mass and running sums, the last two into
 * mass and cum (Gp) unless NULL. */
static double grid_column(const grid_agent *ba, const real *gv, int Gp, int i, int a, double *mass, double *cum)
{
    return bd_grid_mean(Gp, ba->geo.lo, ba->geo.hi, gv + (size_t)i * Gp * ba->A + a, ba->A,
                        ba->f[BD_FIELD_S].scale, mass, cum);
}

/* The networks the agent reports distributions from (distribution, the
 * sampler, bd_grid_eval_fields with target 0): the moving average of the online
 * weights when agent.ema > 0, else the online networks. Acting and targets
 * always use the online and target networks. */
static mlp *reported_torso(const grid_fnet *N) { return N->torso_e ? N->torso_e : N->torso; }
static mlp *reported_head(const grid_fnet *N) { return N->head_e ? N->head_e : N->head; }

/* ---------------------------------------------------------------------- */
/* ops                                                                      */

static int grid_q_values(agent *a, int B, const float *obs, double *q, bdrl_err *e)
{
    grid_agent *ba = impl(a);
    grid_fnet *S = &ba->f[BD_FIELD_S];
    if (B < 0)
        return err_set(e, "bd q_values: negative batch %d", B);
    for (int off = 0; off < B; off += ba->QC) {
        int n = B - off < ba->QC ? B - off : ba->QC;
        torso_encode(&ba->te, n, obs + (size_t)off * ba->te.obs_dim, ba->enc);
        grid_eval(ba, S->torso, S->head, n, ba->enc, ba->emb);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < ba->A; k++)
                q[(size_t)(off + i) * ba->A + k] =
                    ba->geo.c + ba->geo.h * grid_column(ba, ba->gridv, ba->G, i, k, NULL, NULL);
    }
    return 0;
}

/* ρ of the density on the grid taken as atoms at the G grid points with
 * weights max(s, 0) (risk_atoms): the grid's own resolution, no smoothing
 * between points. A column without mass has its Q. Scratch: dist_x, dist_w
 * (the distribution op's buffers). */
static int grid_risk_values(agent *a, int B, const float *obs, const risk_spec *r, double *out, bdrl_err *e)
{
    grid_agent *ba = impl(a);
    grid_fnet *S = &ba->f[BD_FIELD_S];
    if (B < 0)
        return err_set(e, "bd risk_values: negative batch %d", B);
    int G = ba->G, A = ba->A;
    for (int k = 0; k < G; k++)
        ba->dist_x[k] = ba->geo.c + ba->geo.h * (ba->geo.lo + k * ba->geo.du);
    for (int off = 0; off < B; off += ba->QC) {
        int n = B - off < ba->QC ? B - off : ba->QC;
        torso_encode(&ba->te, n, obs + (size_t)off * ba->te.obs_dim, ba->enc);
        grid_eval(ba, S->torso, S->head, n, ba->enc, ba->emb);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < A; c++) {
                double m = 0, *o = out + (size_t)(off + i) * A + c;
                for (int k = 0; k < G; k++) {
                    double v = (double)ba->gridv[((size_t)i * G + k) * A + c];
                    m += ba->dist_w[k] = v > 0 ? v : 0;
                }
                if (!(m > 0) || !isfinite(m))
                    *o = ba->geo.c + ba->geo.h * grid_column(ba, ba->gridv, G, i, c, NULL, NULL);
                else if (risk_atoms(r, ba->dist_x, ba->dist_w, (size_t)G, o, e))
                    return -1;
            }
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* the targets of an update, step by step (bd_grid.h)                     */
/*
 * prepare_targets runs the steps below in this order. A step's parameters
 * are the arrays passed from one step to the next (const: read, else
 * written); the scratch only that step uses stays in ba and its comment
 * names it. The random streams are drawn in the steps' order: rq by
 * query_points, then rt by read_points (jitter) and row_targets (target
 * samples), each transition by transition.
 */

/* Reads b->obs, b->next_obs; writes enc (2B, in_dim), the encoded [s; s'],
 * and emb (2B, E), the target scalar torso on them. */
static void embed_batch(grid_agent *ba, const agent_batch *b, real *enc, real *emb)
{
    int B = b->B;
    torso_encode(&ba->te, B, b->obs, enc);
    torso_encode(&ba->te, B, b->next_obs, enc + (size_t)B * ba->te.in_dim);
    const real *te = mlp_forward(ba->f[BD_FIELD_S].torso_t, 2 * B, enc);
    memcpy(emb, te, sizeof(real) * (size_t)2 * B * ba->E);
}

/* Reads the encoded s and its embedding (enc_s, emb_s: B rows) and
 * b->action; draws rq; writes qsa (B), Q(s, a) of the target scalar field
 * on the query grid (its query law), and the query points uq, uq_r with
 * their action col (B·Q). Scratch: gmap, emb_u, gridq, cum. */
static void query_points(grid_agent *ba, const agent_batch *b, const real *enc_s, const real *emb_s, double *qsa,
                         double *uq, real *uq_r, int *col)
{
    const bd_geometry *g = &ba->geo;
    int B = b->B, Q = ba->Q, Gq = ba->z.Gq;
    int nq = distinct_states(ba, B, enc_s, emb_s, ba->gmap, ba->emb_u);
    head_eval(ba, ba->f[BD_FIELD_S].head_t, nq, ba->emb_u, Gq, ba->qgrid_u, 1, ba->gridq);
    for (int i = 0; i < B; i++) {
        int a = b->action[i];
        qsa[i] = g->c + g->h * grid_column(ba, ba->gridq, Gq, ba->gmap[i], a, NULL, ba->cum);
        /* Their law depends on (s, a) only, and the query stream is
         * consumed identically whatever s' is. */
        int ok = ba->cum[Gq - 1] > 0 && isfinite(ba->cum[Gq - 1]);
        for (int q = 0; q < Q; q++) {
            double U = rng_uniform(ba->rq), u;
            if (q < ba->set.n_uniform || !ok)
                u = g->lo + (g->hi - g->lo) * U;
            else
                u = bd_grid_icdf(Gq, g->lo, g->hi, ba->cum, U);
            uq[(size_t)i * Q + q] = u;
            uq_r[(size_t)i * Q + q] = (real)u;
            col[(size_t)i * Q + q] = a;
        }
    }
}

/* The greedy action at column block i of gv (states, G, A): argmax_a of the
 * grid mean (ties to the lowest index). */
static int grid_argmax(const grid_agent *ba, const real *gv, int i)
{
    int an = 0;
    double best = -INFINITY;
    for (int k = 0; k < ba->A; k++) {
        double qk = grid_column(ba, gv, ba->G, i, k, NULL, NULL);
        if (qk > best) {
            best = qk;
            an = k;
        }
    }
    return an;
}

/* agent.double: reads the encoded s' (enc_n: B rows); writes a_next (B),
 * argmax_a of the ONLINE scalar field's Q(s', a) on the grid, which
 * next_state then bootstraps from with the target field. Draws nothing, so
 * the streams are consumed as without it. Scratch: gmap, emb_u, gridv
 * (next_state writes them again). */
static void online_next_actions(grid_agent *ba, const agent_batch *b, const real *enc_n, int *a_next)
{
    grid_fnet *S = &ba->f[BD_FIELD_S];
    int B = b->B;
    const real *emb = mlp_forward(S->torso, B, enc_n); /* (B, E) online embedding of s' */
    int nu = distinct_states(ba, B, enc_n, emb, ba->gmap, ba->emb_u);
    head_eval(ba, S->head, nu, ba->emb_u, ba->G, ba->grid_u, 1, ba->gridv); /* (nu·G, A) */
    for (int i = 0; i < B; i++)
        a_next[i] = grid_argmax(ba, ba->gridv, ba->gmap[i]);
}

/* Reads the encoded s' and its embedding (enc_n, emb_n: B rows), b's
 * rewards, terminations, next actions and discounts, and a_next when
 * `picked` (online_next_actions); writes gmap (B; s' -> its distinct state)
 * and gridv (the target scalar head on the grid at each distinct s'), u_r,
 * disc and b_off (B; the reward in u units, the discount γ_i and the offset
 * b = (r − (1 − γ_i)c)/h of the Bellman map u -> γ_i u + b), a_next (B; −1
 * if terminal: argmax of the target Q unless the batch gives it or it was
 * picked) and mass_next (B; grid mass of s⁻₊(·; s', a')). Returns whether
 * any transition bootstraps. Scratch: emb_u. */
static int next_state(grid_agent *ba, const agent_batch *b, const real *enc_n, const real *emb_n, int picked,
                      int *gmap, real *gridv, double *u_r, double *disc, double *b_off, int *a_next,
                      double *mass_next)
{
    const bd_geometry *g = &ba->geo;
    int B = b->B, G = ba->G;
    int nu = distinct_states(ba, B, enc_n, emb_n, gmap, ba->emb_u);
    head_eval(ba, ba->f[BD_FIELD_S].head_t, nu, ba->emb_u, G, ba->grid_u, 1, gridv);
    int any_boot = 0;
    for (int i = 0; i < B; i++) {
        double r = b->reward[i];
        u_r[i] = (r - g->c) / g->h;
        disc[i] = agent_row_discount(b, i, g->gamma);
        b_off[i] = (r - (1 - disc[i]) * g->c) / g->h;
        if (b->terminated[i]) {
            a_next[i] = -1;
            mass_next[i] = 0;
            continue;
        }
        any_boot = 1;
        int an;
        if (b->next_action || picked) {
            an = b->next_action ? b->next_action[i] : a_next[i];
        } else {
            an = grid_argmax(ba, gridv, gmap[i]);
        }
        a_next[i] = an;
        /* The mass of the positive part in both modes: the signed mass can
         * be near 0 or negative while a field is still noise, and dividing
         * by it amplified the noise until the run diverged (measured). */
        grid_column(ba, gridv, G, gmap[i], an, &mass_next[i], NULL);
    }
    return any_boot;
}

/* Reads uq, disc and b_off; draws rt (bd.jitter > 0 only); writes vq (B·Q),
 * the jittered points v = u − ξ, and wq_r (B·Q), the points w = (v − b)/γ_i
 * where the next-state fields are read (0 outside the grid, where the
 * target is 0 and the value unread). */
static void read_points(grid_agent *ba, int B, const double *uq, const double *disc, const double *b_off,
                        double *vq, real *wq_r)
{
    const bd_geometry *g = &ba->geo;
    int Q = ba->Q;
    double jitter = ba->set.jitter, sj = sqrt(jitter);
    for (int i = 0; i < B; i++)
        for (int q = 0; q < Q; q++) {
            size_t r = (size_t)i * Q + q;
            double v = uq[r] - (jitter > 0 ? sj * rng_normal(ba->rt) : 0.0);
            vq[r] = v;
            double w = (v - b_off[i]) / disc[i];
            wq_r[r] = (real)(w >= g->lo && w <= g->hi ? w : 0.0);
        }
}

/* Reads the encoded s' and its scalar embedding (enc_n, emb_n: B rows) and
 * wq_r; writes sn and gn (B·Q, A), raw head outputs at w: sn the target
 * scalar head, gn the target gradient head (bd.grad_target gradient) or the
 * scalar head's central difference in the gradient head's units (scalar).
 * Scratch: wd_r, sd (scalar), emb_g (gradient). */
static void target_fields(grid_agent *ba, int B, const real *enc_n, const real *emb_n, const real *wq_r, real *sn,
                          real *gn)
{
    int Q = ba->Q, A = ba->A;
    grid_fnet *S = &ba->f[BD_FIELD_S], *Gf = &ba->f[BD_FIELD_G];
    if (ba->set.grad_from_scalar) {
        /* s⁻(w) and ∂s⁻/∂w from two evaluations of the scalar target head
         * at w ± δ/2: their mean and their difference quotient, both exact
         * to O(δ²) (a third evaluation at w would buy nothing); ∂s⁻ in the
         * gradient head's units (times Gf->scale in row_targets). */
        const double h = 0.5 * BD_FD_STEP;
        int BQ = B * Q;
        for (int r = 0; r < BQ; r++)
            ba->wd_r[r] = (real)(wq_r[r] + h);
        head_eval(ba, S->head_t, B, emb_n, Q, ba->wd_r, 0, gn);
        for (int r = 0; r < BQ; r++)
            ba->wd_r[r] = (real)(wq_r[r] - h);
        head_eval(ba, S->head_t, B, emb_n, Q, ba->wd_r, 0, ba->sd);
        double c = S->scale / (2 * h * Gf->scale);
        for (size_t k = 0; k < (size_t)BQ * A; k++) {
            double sp = (double)gn[k], sm = (double)ba->sd[k];
            sn[k] = (real)(0.5 * (sp + sm));
            gn[k] = (real)(c * (sp - sm));
        }
    } else {
        head_eval(ba, S->head_t, B, emb_n, Q, wq_r, 0, sn);
        const real *eg = mlp_forward(Gf->torso_t, B, enc_n);
        memcpy(ba->emb_g, eg, sizeof(real) * (size_t)B * ba->E);
        head_eval(ba, Gf->head_t, B, ba->emb_g, Q, wq_r, 0, gn);
    }
}

/* Reads b->terminated, vq, u_r, disc, b_off, a_next, mass_next and either
 * sn, gn (target mode fields; unread if no transition bootstraps) or gmap,
 * gridv (samples); draws rt (samples only); writes tt and tdt (B·Q), the
 * scalar and gradient fields' targets at each query row (the Bellman map of
 * each transition's own discount γ_i). Scratch: s1, g1 (fields), cum, x2
 * (samples). */
static void row_targets(grid_agent *ba, const agent_batch *b, const double *vq, const double *u_r,
                        const double *disc, const double *b_off, const int *a_next, const double *mass_next,
                        const real *sn, const real *gn, const int *gmap, const real *gridv, double *tt,
                        double *tdt)
{
    const bd_geometry *g = &ba->geo;
    int B = b->B, Q = ba->Q, A = ba->A, G = ba->G, fields = ba->set.target_mode == TARGET_FIELDS;
    double ss = ba->f[BD_FIELD_S].scale, sg = ba->f[BD_FIELD_G].scale;
    for (int i = 0; i < B; i++) {
        size_t r0 = (size_t)i * Q;
        const double *v = vq + r0;
        double *t = tt + r0, *dt = tdt + r0;
        if (b->terminated[i]) {
            bd_grid_target_terminal(Q, v, u_r[i], ba->set.eps, t, dt);
            continue;
        }
        int an = a_next[i];
        if (fields) {
            for (int q = 0; q < Q; q++) {
                ba->s1[q] = ss * sn[(r0 + q) * A + an];
                ba->g1[q] = sg * gn[(r0 + q) * A + an];
            }
            bd_grid_target_bootstrap(Q, v, b_off[i], disc[i], g->lo, g->hi, ba->s1, ba->g1, mass_next[i],
                                g->mass_floor, ba->set.clamp_target, t, dt);
        } else {
            double mass;
            grid_column(ba, gridv, G, gmap[i], an, &mass, ba->cum);
            int ok = ba->cum[G - 1] > 0 && isfinite(ba->cum[G - 1]);
            for (int q = 0; q < Q; q++) {
                double U = rng_uniform(ba->rt);
                ba->x2[q] = ok ? disc[i] * bd_grid_icdf(G, g->lo, g->hi, ba->cum, U) + b_off[i] : 0.0;
            }
            double wgt = ok ? mass / (mass > g->mass_floor ? mass : g->mass_floor) : 0.0;
            bd_grid_target_kernel(Q, v, Q, ba->x2, wgt, ba->set.eps, t, dt);
        }
    }
}

/* The queries and targets of batch b: query points ba->uq (and uq_r, col),
 * targets ba->tt, ba->tdt, with ba->qsa (the stats' q_mean) and ba->a_next;
 * ba->enc holds [s; s'] afterwards. */
static int prepare_targets(grid_agent *ba, const agent_batch *b, bdrl_err *e)
{
    if (agent_check_batch("bd", b, ba->Bmax, ba->A, e))
        return -1;
    int B = b->B;
    for (int i = 0; b->discount && i < B; i++) /* w = (v − b)/γ_i below (agent.gamma > 0 is checked at create) */
        if (!b->terminated[i] && !(b->discount[i] > 0))
            return err_set(e, "bd: discount 0 in row %d of the batch (the grid's Bellman map divides by it)", i);
    const real *enc_n = ba->enc + (size_t)B * ba->te.in_dim, *emb_n = ba->emb + (size_t)B * ba->E;
    embed_batch(ba, b, ba->enc, ba->emb);
    query_points(ba, b, ba->enc, ba->emb, ba->qsa, ba->uq, ba->uq_r, ba->col);
    int picked = ba->double_q && !b->next_action;
    if (picked)
        online_next_actions(ba, b, enc_n, ba->a_next);
    int any_boot = next_state(ba, b, enc_n, emb_n, picked, ba->gmap, ba->gridv, ba->u_r, ba->disc, ba->b_off,
                              ba->a_next, ba->mass_next);
    read_points(ba, B, ba->uq, ba->disc, ba->b_off, ba->vq, ba->wq_r);
    if (any_boot && ba->set.target_mode == TARGET_FIELDS)
        target_fields(ba, B, enc_n, emb_n, ba->wq_r, ba->sn, ba->gn);
    row_targets(ba, b, ba->vq, ba->u_r, ba->disc, ba->b_off, ba->a_next, ba->mass_next, ba->sn, ba->gn,
                ba->gmap, ba->gridv, ba->tt, ba->tdt);
    return 0;
}

/* One field's regression step: head input [emb(s_i), fourier(u_iq)] as a
 * grouped forward (the embedding part of the first layer once per
 * transition; the Fourier rows ba->Xf are already filled), targets ba->tr,
 * row weights w (B·Q: the transition's importance weight on each of its
 * rows; NULL: 1); the head's dL/d(emb_i), summed over the Q rows, goes into
 * the torso. */
static double field_step(grid_agent *ba, grid_fnet *N, int B, double scale2, const real *w, double *norm)
{
    int Q = ba->Q, E = ba->E;
    mlp_zero_grad(N->torso);
    mlp_zero_grad(N->head);
    const real *emb = mlp_forward(N->torso, B, ba->enc);
    mlp_forward_grouped(N->head, B * Q, Q, emb, E, ba->Xf);
    double L = field_loss_regress_last(N->head, ba->col, ba->tr, w, scale2, ba->demb);
    mlp_backward(N->torso, ba->demb, NULL, NULL, NULL);
    adam *opts[2] = {N->opt_torso, N->opt_head};
    mlp *nets[2] = {N->torso, N->head};
    *norm = adam_step_mlps(opts, nets, 2);
    return L;
}

/* Each transition's own loss of the field whose step just ran (head: its
 * head after field_step, ba->tr its targets over the scale): the mean over
 * the transition's Q rows of scale2 (y − t)², the terms field_step's loss
 * averages over all B·Q rows, into out (B). */
static void row_losses(grid_agent *ba, const mlp *head, int B, double scale2, double *out)
{
    int Q = ba->Q, A = ba->A;
    const real *y = mlp_y(head); /* (B·Q, A) */
    for (int i = 0; i < B; i++) {
        double L = 0;
        for (int q = 0; q < Q; q++) {
            size_t r = (size_t)i * Q + q;
            double d = (double)y[r * A + ba->col[r]] - ba->tr[r];
            L += d * d;
        }
        out[i] = scale2 * L / Q;
    }
}

static int grid_update(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    grid_agent *ba = impl(a);
    if (prepare_targets(ba, b, e))
        return -1;
    int B = b->B, Q = ba->Q, BQ = B * Q;
    fourier_features(BQ, ba->uq_r, ba->K, ba->fl, ba->Xf, ba->F, NULL, 0);
    grid_fnet *S = &ba->f[BD_FIELD_S], *Gf = &ba->f[BD_FIELD_G];
    /* Importance weights: each transition's on its Q rows, so both losses
     * are (1/B) Σ_i w_i (mean over i's rows). */
    const real *w = NULL;
    if (b->weight) {
        for (int r = 0; r < BQ; r++)
            ba->wr[r] = (real)agent_row_weight(b, r / Q);
        w = ba->wr;
    }
    /* s: scale²/n Σ (y − t/scale)² = 1/n Σ (scale·y − t)². */
    for (int r = 0; r < BQ; r++)
        ba->tr[r] = (real)(ba->tt[r] / S->scale);
    double ns, ng;
    double ls = field_step(ba, S, B, S->scale * S->scale, w, &ns);
    if (b->sample_loss) /* the scalar field's, as the loss the update reports */
        row_losses(ba, S->head, B, S->scale * S->scale, b->sample_loss);
    for (int r = 0; r < BQ; r++)
        ba->tr[r] = (real)(ba->tdt[r] / Gf->scale);
    double lg = field_step(ba, Gf, B, ba->lambda * Gf->scale * Gf->scale, w, &ng);
    if (ba->ema > 0)
        for (int k = 0; k < 2; k++) {
            grid_fnet *N = &ba->f[k];
            mlp_polyak(N->torso_e, N->torso, 1 - ba->ema, NULL);
            mlp_polyak(N->head_e, N->head, 1 - ba->ema, NULL);
        }
    if (!isfinite(ns) || !isfinite(ng) || !isfinite(ls) || !isfinite(lg))
        return err_set(e, "bd update: non-finite loss or gradient (scalar field loss %g, gradient "
                          "norm %g; gradient field loss %g, norm %g); lower agent.lr or check the "
                          "return range agent.v_min/v_max", ls, ns, lg, ng);
    if (st) {
        double qm = 0;
        for (int i = 0; i < B; i++)
            qm += ba->qsa[i];
        st->loss = ls;
        st->loss_grad = lg;
        st->q_mean = qm / B;
        st->grad_norm = ns;
    }
    return 0;
}

static void grid_update_target(agent *a, double tau)
{
    grid_agent *ba = impl(a);
    for (int f = 0; f < 2; f++) {
        grid_fnet *N = &ba->f[f];
        if (tau >= 1) {
            mlp_copy_params(N->torso_t, N->torso, NULL);
            mlp_copy_params(N->head_t, N->head, NULL);
        } else {
            mlp_polyak(N->torso_t, N->torso, tau, NULL);
            mlp_polyak(N->head_t, N->head, tau, NULL);
        }
    }
}

static int grid_distribution(agent *a, const float *obs, int action, agent_dist *out, bdrl_err *e)
{
    grid_agent *ba = impl(a);
    if (action < 0 || action >= ba->A)
        return err_set(e, "bd distribution: action %d out of range [0, %d)", action, ba->A);
    grid_fnet *S = &ba->f[BD_FIELD_S];
    torso_encode(&ba->te, 1, obs, ba->enc);
    grid_eval(ba, reported_torso(S), reported_head(S), 1, ba->enc, ba->emb);
    for (int k = 0; k < ba->G; k++) {
        double v = S->scale * (double)ba->gridv[(size_t)k * ba->A + action];
        ba->dist_x[k] = ba->geo.c + ba->geo.h * (ba->geo.lo + k * ba->geo.du);
        ba->dist_w[k] = (v > 0 ? v : 0) / ba->geo.h; /* p(x) = p~(u)/h */
    }
    out->n = ba->G;
    out->x = ba->dist_x;
    out->w = ba->dist_w;
    out->is_density = 1;
    grid_column(ba, ba->gridv, ba->G, 0, action, &out->mass, NULL);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* checkpoints                                                             */

#define BD_MAGIC "BDRLBDA"
#define BD_VERSION 2u

typedef struct {
    char magic[8];
    uint32_t version, n_actions, grid, fourier_k, queries, target_mode, has_ema;
} grid_header;

static void header_of(const grid_agent *ba, grid_header *h)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, BD_MAGIC, sizeof BD_MAGIC);
    h->version = BD_VERSION;
    h->n_actions = (uint32_t)ba->A;
    h->grid = (uint32_t)ba->G;
    h->fourier_k = (uint32_t)ba->K;
    h->queries = (uint32_t)ba->Q;
    h->target_mode = (uint32_t)ba->set.target_mode;
    h->has_ema = ba->ema > 0;
}

static int grid_save(const agent *a, FILE *f, bdrl_err *e)
{
    const grid_agent *ba = impl(a);
    grid_header h;
    header_of(ba, &h);
    if (fwrite(&h, sizeof h, 1, f) != 1)
        return err_set(e, "bd checkpoint: write failed");
    for (int k = 0; k < 2; k++) {
        const grid_fnet *N = &ba->f[k];
        if (mlp_save(N->torso, N->opt_torso, f, e) || mlp_save(N->head, N->opt_head, f, e) ||
            mlp_save(N->torso_t, NULL, f, e) || mlp_save(N->head_t, NULL, f, e))
            return err_prefix(e, "bd checkpoint (%s field)", k ? "gradient" : "scalar");
    }
    if (rng_save(ba->rq, f, e) || rng_save(ba->rt, f, e))
        return err_prefix(e, "bd checkpoint");
    for (int k = 0; k < 2 && ba->ema > 0; k++)
        if (mlp_save(ba->f[k].torso_e, NULL, f, e) || mlp_save(ba->f[k].head_e, NULL, f, e))
            return err_prefix(e, "bd checkpoint (moving average)");
    return 0;
}

/* Loads everything into fresh copies first, so a failure leaves the agent
 * as it was; then swaps them in. */
static int grid_load(agent *a, FILE *f, bdrl_err *e)
{
    grid_agent *ba = impl(a);
    grid_header h, want;
    header_of(ba, &want);
    if (fread(&h, sizeof h, 1, f) != 1)
        return err_set(e, "bd checkpoint: truncated header");
    if (memcmp(h.magic, want.magic, sizeof h.magic))
        return err_set(e, "bd checkpoint: not a Bellman Diffusion agent (bad magic)");
    if (h.version != want.version)
        return err_set(e, "bd checkpoint: version %u, this build reads %u", h.version, want.version);
    if (h.n_actions != want.n_actions || h.grid != want.grid || h.fourier_k != want.fourier_k ||
        h.queries != want.queries || h.target_mode != want.target_mode || h.has_ema != want.has_ema)
        return err_set(e, "bd checkpoint: saved with %u actions, grid %u, fourier_k %u, queries %u, "
                          "target mode %u, moving average %s; this agent has %u, %u, %u, %u, %u, %s",
                       h.n_actions, h.grid, h.fourier_k, h.queries, h.target_mode, h.has_ema ? "on" : "off",
                       want.n_actions, want.grid, want.fourier_k, want.queries, want.target_mode,
                       want.has_ema ? "on" : "off");
    mlp *nets[8] = {0}, *avg[4] = {0};
    adam *opts[4] = {0};
    rng *r[2] = {0};
    int rc = -1;
    for (int k = 0; k < 2; k++) {
        grid_fnet *N = &ba->f[k];
        mlp *src[4] = {N->torso, N->head, N->torso_t, N->head_t};
        for (int j = 0; j < 4; j++)
            if (!(nets[4 * k + j] = mlp_create(&src[j]->spec, src[j]->max_batch, NULL, e)))
                goto done;
        if (!(opts[2 * k] = adam_create(N->torso->n_params, &N->opt_torso->cfg, e)) ||
            !(opts[2 * k + 1] = adam_create(N->head->n_params, &N->opt_head->cfg, e)))
            goto done;
        if (mlp_load(nets[4 * k], opts[2 * k], f, e) || mlp_load(nets[4 * k + 1], opts[2 * k + 1], f, e) ||
            mlp_load(nets[4 * k + 2], NULL, f, e) || mlp_load(nets[4 * k + 3], NULL, f, e)) {
            err_prefix(e, "bd checkpoint (%s field)", k ? "gradient" : "scalar");
            goto done;
        }
    }
    r[0] = rng_create(0, 0);
    r[1] = rng_create(0, 0);
    if (!r[0] || !r[1]) {
        err_set(e, "bd checkpoint: out of memory");
        goto done;
    }
    if (rng_load(r[0], f, e) || rng_load(r[1], f, e)) {
        err_prefix(e, "bd checkpoint");
        goto done;
    }
    for (int k = 0; k < 2 && h.has_ema; k++) {
        grid_fnet *N = &ba->f[k];
        if (!(avg[2 * k] = mlp_create(&N->torso_e->spec, N->torso_e->max_batch, NULL, e)) ||
            !(avg[2 * k + 1] = mlp_create(&N->head_e->spec, N->head_e->max_batch, NULL, e)))
            goto done;
        if (mlp_load(avg[2 * k], NULL, f, e) || mlp_load(avg[2 * k + 1], NULL, f, e)) {
            err_prefix(e, "bd checkpoint (moving average)");
            goto done;
        }
    }
    /* Swap: the loaded objects become the agent's, the old ones are freed. */
    for (int k = 0; k < 2; k++) {
        grid_fnet *N = &ba->f[k];
        mlp **dst[4] = {&N->torso, &N->head, &N->torso_t, &N->head_t};
        for (int j = 0; j < 4; j++) {
            mlp *t = *dst[j];
            *dst[j] = nets[4 * k + j];
            nets[4 * k + j] = t;
        }
        if (h.has_ema) {
            mlp *a0 = N->torso_e, *a1 = N->head_e;
            N->torso_e = avg[2 * k];
            N->head_e = avg[2 * k + 1];
            avg[2 * k] = a0;
            avg[2 * k + 1] = a1;
        }
        adam *t0 = N->opt_torso, *t1 = N->opt_head;
        N->opt_torso = opts[2 * k];
        N->opt_head = opts[2 * k + 1];
        opts[2 * k] = t0;
        opts[2 * k + 1] = t1;
    }
    rng *t0 = ba->rq, *t1 = ba->rt;
    ba->rq = r[0];
    ba->rt = r[1];
    r[0] = t0;
    r[1] = t1;
    rc = 0;
done:
    for (int j = 0; j < 8; j++)
        mlp_free(nets[j]);
    for (int j = 0; j < 4; j++)
        mlp_free(avg[j]);
    for (int j = 0; j < 4; j++)
        adam_free(opts[j]);
    rng_free(r[0]);
    rng_free(r[1]);
    return rc;
}

static void grid_free(agent *a)
{
    if (!a)
        return;
    grid_agent *ba = impl(a);
    if (ba) {
        for (int k = 0; k < 2; k++) {
            grid_fnet *N = &ba->f[k];
            mlp_free(N->torso);
            mlp_free(N->head);
            mlp_free(N->torso_t);
            mlp_free(N->head_t);
            mlp_free(N->torso_e);
            mlp_free(N->head_e);
            adam_free(N->opt_torso);
            adam_free(N->opt_head);
        }
        rng_free(ba->rq);
        rng_free(ba->rt);
        scratch_row t[GRID_MAX_SCRATCH];
        scratch_free(ba, t, scratch_table(&ba->z, t));
        free(ba);
    }
    free(a);
}

static int grid_params(agent *a, agent_param_block *out)
{
    static const char *names[2][2] = {{"bd scalar-field torso", "bd scalar-field head"},
                                      {"bd gradient-field torso", "bd gradient-field head"}};
    int n = 0;
    for (int f = 0; f < 2; f++)
        for (int part = 0; part < 2; part++) {
            mlp *m = bd_grid_net(a, (bd_field)f, part, 0);
            out[n++] = (agent_param_block){names[f][part], m->params, m->n_params};
        }
    return n;
}

static const char *grid_describe(const agent *a);
static void grid_field_range(const agent *a, agent_field_range *r);
static int grid_fields(agent *a, const float *obs, int n, const double *u, double *s, double *g, bdrl_err *e);
static void grid_sampler_defaults(const agent *a, sde_config *sc);
static int grid_sample(agent *a, const float *obs, int action, const sde_config *sc, int n, double *returns,
                     sde_result *res, rng *r, bdrl_err *e);

static const agent_ops grid_ops = {
    .name = "bd",
    .q_values = grid_q_values,
    .risk_values = grid_risk_values,
    .update = grid_update,
    .update_target = grid_update_target,
    .distribution = grid_distribution,
    .save = grid_save,
    .load = grid_load,
    .free = grid_free,
    .params = grid_params,
    .describe = grid_describe,
    .sampler_defaults = grid_sampler_defaults,
    .sample = grid_sample,
    .field_range = grid_field_range,
    .fields = grid_fields,
};

/* ---------------------------------------------------------------------- */
/* create                                                                  */

agent *agent_bd_grid_create(const exp_config *cfg, const env *en, rng *init, bdrl_err *e)
{
    if (cfg->bd.head.n + 1 > MLP_MAX_LAYERS) {
        err_set(e, "bd.head has too many layers (at most %d)", MLP_MAX_LAYERS - 1);
        return NULL;
    }
    /* The head's forward runs in head_eval, a forward-only path of its own
     * that reads the plain weights W, b of every layer (the first split
     * into a per-state and a per-point part); neither a noisy W_eff nor a
     * dueling combine exists there. */
    if (cfg->agent.dueling || cfg->agent.noisy) {
        err_set(e, "%s: bd.field grid evaluates its head on (state, u) points in its own forward path, which has "
                   "no noisy layers or dueling streams (use bd.field basis)",
                cfg->agent.dueling ? "agent.dueling" : "agent.noisy");
        return NULL;
    }
    agent *a = err_calloc(1, sizeof *a, e);
    if (!a)
        return NULL;
    a->ops = &grid_ops;
    grid_agent *ba = err_calloc(1, sizeof *ba, e);
    if (!ba) {
        free(a);
        return NULL;
    }
    a->impl = ba;
    ba->z = sizes_of(cfg, en);
    ba->te = torso_encoding_for(en);
    ba->A = env_n_actions(en);
    a->obs_dim = ba->te.obs_dim;
    a->n_actions = ba->A;

    mlp_spec ts, hs;
    if (torso_spec(cfg, &ba->te, 0, &ts, e))
        goto fail;
    ba->E = ts.sizes[ts.n_layers];
    ba->K = cfg->bd.fourier_k;
    ba->F = fourier_dim(ba->K);
    ba->nin = ba->E + ba->F;
    memset(&hs, 0, sizeof hs);
    hs.n_layers = cfg->bd.head.n + 1;
    hs.sizes[0] = ba->nin;
    for (int l = 0; l < cfg->bd.head.n; l++)
        hs.sizes[l + 1] = cfg->bd.head.w[l];
    hs.sizes[hs.n_layers] = ba->A;
    hs.act = (mlp_act)cfg->agent.activation;
    hs.out_act = MLP_LINEAR;

    bd_geometry *g = &ba->geo;
    if (bd_geometry_of(cfg, g, e))
        goto fail;
    ba->G = g->G;
    bd_grid_settings *st = &ba->set;
    st->eps = cfg->agent.eps_kernel;
    st->jitter = cfg->bd.jitter;
    st->clamp_target = cfg->bd.clamp_target;
    st->grad_from_scalar = cfg->bd.grad_target == BD_GRAD_TARGET_SCALAR;
    st->out_scale_s = cfg->bd.out_scale > 0 ? cfg->bd.out_scale : 0.25 / sqrt(2 * M_PI * st->eps);
    st->out_scale_g = st->out_scale_s / sqrt(st->eps);
    st->queries = ba->Q = cfg->bd.queries;
    st->n_uniform = (int)lround(cfg->bd.query_uniform * ba->Q);
    st->target_mode = cfg->bd.target_mode;
    ba->lambda = cfg->bd.lambda_grad;
    ba->ema = cfg->agent.ema;
    ba->double_q = cfg->agent.double_q;
    /* Features sin/cos(kπu/L) with L = 1 + m: the grid range is one period
     * (the prototype's L = 1.25 with m = 0.25). */
    ba->fl = g->hi;

    ba->Bmax = cfg->train.batch_size;
    ba->QC = ba->z.QC;
    if ((long)ba->Bmax * ba->Q > MAX_ROWS) {
        err_set(e, "bd: train.batch_size x bd.queries = %ld rows per update; at most %d",
                (long)ba->Bmax * ba->Q, MAX_ROWS);
        goto fail;
    }
    int BQ = ba->Bmax * ba->Q;
    adam_config ac = adam_defaults();
    ac.lr = cfg->agent.lr;
    ac.eps = cfg->agent.adam_eps;
    ac.clip_norm = cfg->train.clip;
    static const mlp_act scalar_acts[] = {MLP_LINEAR, MLP_RELU, MLP_SOFTPLUS};
    for (int k = 0; k < 2; k++) {
        grid_fnet *N = &ba->f[k];
        N->scale = k == BD_FIELD_S ? st->out_scale_s : st->out_scale_g;
        mlp_spec hk = hs; /* the gradient field is signed: linear output */
        if (k == BD_FIELD_S)
            hk.out_act = scalar_acts[cfg->bd.scalar_output];
        if (!(N->torso = mlp_create(&ts, ba->QC, init, e)) || !(N->head = mlp_create(&hk, BQ, init, e)) ||
            !(N->torso_t = mlp_create(&ts, ba->QC, NULL, e)) || !(N->head_t = mlp_create(&hk, BQ, NULL, e)) ||
            mlp_copy_params(N->torso_t, N->torso, e) || mlp_copy_params(N->head_t, N->head, e) ||
            !(N->opt_torso = adam_create(N->torso->n_params, &ac, e)) ||
            !(N->opt_head = adam_create(N->head->n_params, &ac, e)))
            goto fail;
        if (ba->ema > 0 &&
            (!(N->torso_e = mlp_create(&ts, ba->QC, NULL, e)) || !(N->head_e = mlp_create(&hk, HEAD_CHUNK, NULL, e)) ||
             mlp_copy_params(N->torso_e, N->torso, e) || mlp_copy_params(N->head_e, N->head, e)))
            goto fail;
    }
    uint64_t seed = rng_u64(init);
    ba->rq = rng_create(seed, RNG_STREAM_LOSS);
    ba->rt = rng_create(seed, RNG_STREAM_LOSS + 100);

    int in = ba->te.in_dim, E = ba->E, G = ba->G, A = ba->A, Q = ba->Q;
    scratch_row t[GRID_MAX_SCRATCH];
    if (!ba->rq || !ba->rt || scratch_alloc(ba, t, scratch_table(&ba->z, t), e))
        goto fail;
    for (int k = 0; k < G; k++)
        ba->grid_u[k] = (real)(g->lo + k * g->du);
    fourier_features(G, ba->grid_u, ba->K, ba->fl, ba->grid_f, ba->F, NULL, 0);
    double qdu = (g->hi - g->lo) / (ba->z.Gq - 1);
    for (int k = 0; k < ba->z.Gq; k++)
        ba->qgrid_u[k] = (real)(g->lo + k * qdu);
    fourier_features(ba->z.Gq, ba->qgrid_u, ba->K, ba->fl, ba->qgrid_f, ba->F, NULL, 0);

    size_t np = 0;
    for (int k = 0; k < 2; k++)
        np += ba->f[k].torso->n_params + ba->f[k].head->n_params;
    snprintf(ba->desc, sizeof ba->desc,
             "bd (grid): torso %d->%d (x2: scalar, gradient), head [%d emb + %d fourier]->%d outputs; "
             "%zu parameters online; grid %d on u in [%g, %g]; %d queries (%d uniform); target %s; "
             "eps %g, jitter %g, out scale %.4g / %.4g%s",
             in, E, E, ba->F, A, np, G, g->lo, g->hi, Q, st->n_uniform,
             st->target_mode == TARGET_FIELDS ? "fields" : "samples", st->eps, st->jitter, st->out_scale_s,
             st->out_scale_g, ba->double_q ? "; double" : "");
    return a;
fail:
    grid_free(a);
    return NULL;
}

static const char *grid_describe(const agent *a) { return impl(a)->desc; }

/* ---------------------------------------------------------------------- */
/* introspection                                                           */

void bd_grid_get_geometry(const agent *a, bd_geometry *g, bd_grid_settings *s)
{
    if (g)
        *g = impl(a)->geo;
    if (s)
        *s = impl(a)->set;
}

static void grid_field_range(const agent *a, agent_field_range *r) { bd_field_range_of(&impl(a)->geo, r); }

mlp *bd_grid_net(agent *a, bd_field f, int part, int target)
{
    grid_fnet *N = &impl(a)->f[f];
    if (target == 2)
        return part ? N->head_e : N->torso_e;
    return part ? (target ? N->head_t : N->head) : (target ? N->torso_t : N->torso);
}

void bd_grid_reseed(agent *a, uint64_t seed)
{
    grid_agent *ba = impl(a);
    rng_reseed(ba->rq, seed, RNG_STREAM_LOSS);
    rng_reseed(ba->rt, seed, RNG_STREAM_LOSS + 100);
}

int bd_grid_debug_targets(agent *a, const agent_batch *b, double *u, double *t, double *dt, int *next_action,
                     bdrl_err *e)
{
    grid_agent *ba = impl(a);
    if (prepare_targets(ba, b, e))
        return -1;
    const double *uq = ba->uq, *tt = ba->tt, *tdt = ba->tdt;
    const int *an = ba->a_next;
    int Q = ba->Q;
    size_t n = (size_t)b->B * Q;
    if (u)
        memcpy(u, uq, n * sizeof(double));
    if (t)
        memcpy(t, tt, n * sizeof(double));
    if (dt)
        memcpy(dt, tdt, n * sizeof(double));
    if (next_action)
        memcpy(next_action, an, (size_t)b->B * sizeof(int));
    return 0;
}

/* emb1_s, emb1_g <- the torsos at one observation. */
static void embed_one(grid_agent *ba, const float *obs, int target)
{
    torso_encode(&ba->te, 1, obs, ba->enc);
    for (int k = 0; k < 2; k++) {
        grid_fnet *N = &ba->f[k];
        const real *y = mlp_forward(target ? N->torso_t : reported_torso(N), 1, ba->enc);
        memcpy(k ? ba->emb1_g : ba->emb1_s, y, sizeof(real) * ba->E);
    }
}

/* Fields at n points for the state in emb1_*: s, g (n, A) scaled; heads
 * online or target; fast path or mlp_forward. */
static void fields_at(grid_agent *ba, int target, int reference, int n, const double *u, double *s, double *g)
{
    for (int k = 0; k < 2; k++) {
        double *out = k ? g : s;
        if (!out)
            continue;
        grid_fnet *N = &ba->f[k];
        mlp *head = target ? N->head_t : reported_head(N);
        const real *emb = k ? ba->emb1_g : ba->emb1_s;
        int chunk = reference ? (head->max_batch < HEAD_CHUNK ? head->max_batch : HEAD_CHUNK) : HEAD_CHUNK;
        for (int off = 0; off < n; off += chunk) {
            int m = n - off < chunk ? n - off : chunk;
            for (int i = 0; i < m; i++)
                ba->ub2[i] = (real)u[off + i];
            const real *y;
            if (reference) {
                for (int i = 0; i < m; i++)
                    memcpy(ba->X + (size_t)i * ba->nin, emb, sizeof(real) * ba->E);
                fourier_features(m, ba->ub2, ba->K, ba->fl, ba->X + ba->E, ba->nin, NULL, 0);
                y = mlp_forward(head, m, ba->X);
            } else {
                head_eval(ba, head, 1, emb, m, ba->ub2, 0, ba->yb);
                y = ba->yb;
            }
            for (size_t i = 0; i < (size_t)m * ba->A; i++)
                out[(size_t)off * ba->A + i] = N->scale * (double)y[i];
        }
    }
}

int bd_grid_eval_fields(agent *a, const float *obs, int target, int reference, int n, const double *u,
                   double *s, double *g, bdrl_err *e)
{
    (void)e;
    grid_agent *ba = impl(a);
    embed_one(ba, obs, target);
    fields_at(ba, target, reference, n, u, s, g);
    return 0;
}

static int grid_fields(agent *a, const float *obs, int n, const double *u, double *s, double *g, bdrl_err *e)
{
    return bd_grid_eval_fields(a, obs, 0, 0, n, u, s, g, e);
}

/* ---------------------------------------------------------------------- */
/* sampling                                                                */

typedef struct {
    grid_agent *ba;
    int action;
} sample_ctx;

/* The sampler's view: s and g of one (state, action) in u units, 0 outside
 * the grid range (as in src/gen/fit.c: an extrapolated positive s there
 * would pull walkers away for good). */
static int sample_fields(void *vctx, int n, int d, const double *x, double *s, double *g, bdrl_err *e)
{
    (void)d;
    (void)e;
    sample_ctx *c = vctx;
    grid_agent *ba = c->ba;
    for (int off = 0; off < n; off += HEAD_CHUNK) {
        int m = n - off < HEAD_CHUNK ? n - off : HEAD_CHUNK;
        for (int i = 0; i < m; i++)
            ba->ub2[i] = (real)x[off + i];
        for (int k = 0; k < 2; k++) {
            double *out = k ? g : s;
            if (!out)
                continue;
            grid_fnet *N = &ba->f[k];
            head_eval(ba, reported_head(N), 1, k ? ba->emb1_g : ba->emb1_s, m, ba->ub2, 0, ba->yb);
            for (int i = 0; i < m; i++) {
                double xi = x[off + i];
                int inside = xi >= ba->geo.lo && xi <= ba->geo.hi;
                out[off + i] = inside ? N->scale * (double)ba->yb[(size_t)i * ba->A + c->action] : 0.0;
            }
        }
    }
    return 0;
}

static void grid_sampler_defaults(const agent *a, sde_config *sc)
{
    const grid_agent *ba = impl(a);
    bd_sampler_defaults_for(&ba->geo, 0.02 * ba->set.eps, sc);
}

static int grid_sample(agent *a, const float *obs, int action, const sde_config *sc, int n, double *returns,
                     sde_result *res, rng *r, bdrl_err *e)
{
    grid_agent *ba = impl(a);
    if (action < 0 || action >= ba->A)
        return err_set(e, "bd sample: action %d out of range [0, %d)", action, ba->A);
    if (n < 1)
        return err_set(e, "bd sample: %d walkers; need at least 1", n);
    embed_one(ba, obs, 0);
    sample_ctx ctx = {ba, action};
    return bd_sample_in_u(&ba->geo, sc, sample_fields, &ctx, n, returns, res, r, e);
}

/* ---------------------------------------------------------------------- */
/* the memory estimate (bd.c's registry entry dispatches here)            */

/* Two fields, each an online and a target torso and head (again as scratch
 * copies while a checkpoint loads); Adam m, v of the online ones; the
 * scratch from the agent's own table (scratch_table). */
const char *bd_grid_memory(const exp_config *cfg, const env *en, sizing_estimate *out, double *params)
{
    torso_encoding te = torso_encoding_for(en);
    int sizes[EXP_MAX_HIDDEN + 3], n = sizing_torso_sizes(cfg, &te, sizes);
    double A = env_n_actions(en), B = cfg->train.batch_size, rl = sizeof(real);
    double E = sizes[n], Q = cfg->bd.queries, F = fourier_dim(cfg->bd.fourier_k);
    double QC = 2 * B, BQ = B * Q;
    int hs[EXP_MAX_HIDDEN + 2], hn = cfg->bd.head.n;
    hs[0] = (int)(E + F);
    for (int i = 0; i < hn; i++)
        hs[i + 1] = cfg->bd.head.w[i];
    hs[hn + 1] = (int)A;
    *params = 2 * (sizing_torso_params(cfg, &te, n, sizes) + sizing_layers_params(hn + 1, hs));
    double per = n > 0 ? sizing_torso_bytes(cfg, &te, n, sizes, QC) : 0;
    per += mlp_memory_bytes(hn + 1, hs, (int)fmin(BQ, 2e9));
    out->networks = 2 * 2 * 2 * per + 2 * *params * rl;
    out->scratch = bd_grid_scratch_bytes(cfg, en);
    return "agent.hidden, bd.head, bd.grid, bd.queries or train.batch_size";
}
