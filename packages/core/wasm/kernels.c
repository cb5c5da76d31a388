/*
 * gensynth's own WebAssembly SIMD training kernels.
 *
 * Built into a small module that imports tfjs-backend-wasm's memory (`scripts/build-wasm.sh`), so
 * every pointer here is a byte offset into the tfjs heap: the kernels read and write tensors in
 * place, with no copies. The module has no data segment and uses no stack (leaf functions, no
 * address-taken locals), so it never writes outside the buffers it is given; the build checks
 * both.
 *
 * Arithmetic is IEEE float32. The element-wise kernels and Adam apply the operations of the tfjs
 * ops they replace in the same order, so their results are the same; the convolutions, products
 * and sums add in their own order (each output in one fixed order, whatever the thread count),
 * which agrees with tfjs's to float32 rounding.
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

/*
 * acc + a * b in the convolution and product loops. The "fma" variants of the module are built
 * with -mrelaxed-simd -DGENSYNTH_FMA, where this is WebAssembly's relaxed multiply-add: one
 * fused multiply-add instruction on x86 with FMA and on ARM (one rounding instead of two).
 * Element-wise kernels and Adam keep separate multiplies and adds, to round as tfjs does.
 */
#ifdef GENSYNTH_FMA
#define MADD(acc, a, b) wasm_f32x4_relaxed_madd((a), (b), (acc))
#else
#define MADD(acc, a, b) wasm_f32x4_add((acc), wasm_f32x4_mul((a), (b)))
#endif

typedef float f32;

static inline int min_i(int a, int b) { return a < b ? a : b; }

/* Smallest o >= 0 with o * s + base >= 0 (s >= 1). */
static inline int first_inside(int base, int s) {
  if (base >= 0) return 0;
  return (-base + s - 1) / s;
}

/* One past the largest o with o * s + base < limit, or 0 when there is none. */
static inline int end_inside(int base, int s, int limit) {
  if (base >= limit) return 0;
  return (limit - 1 - base) / s + 1;
}

/*
 * Filter gradient of an NHWC 2-D convolution.
 *
 *   dw[i, j, ci, co] = sum_{b, oy, ox} x[b, oy*sh + i*dh - pt, ox*sw + j*dwl - pl, ci]
 *                                    * dy[b, oy, ox, co]
 *
 * x [B, H, W, Ci], dy [B, Ho, Wo, Co], dw [kh, kw, Ci, Co] (overwritten). Positions outside x are
 * the zero padding and contribute nothing, so each tap's valid output rows and columns are
 * computed once and the inner loop has no bounds tests. Tiles of 4 input channels x 8 output
 * channels keep 8 vector accumulators in registers over one image's pixels.
 *
 * Computes (and zeroes first) only the taps t = i * kw + j in [t0, t1), so that threads can
 * share one call's taps.
 */
EXPORT(conv2d_filter_grad)
void conv2d_filter_grad(const f32 *x, const f32 *dy, f32 *dw, int B, int H, int W, int Ci,
                        int Ho, int Wo, int Co, int kh, int kw, int sh, int sw, int dh, int dwl,
                        int pt, int pl, int t0, int t1) {
  for (long k = (long)t0 * Ci * Co; k < (long)t1 * Ci * Co; k++) dw[k] = 0.0f;
  const int xs = sw * Ci; /* x step between neighbouring output columns */
  for (int b = 0; b < B; b++) {
    const f32 *xb = x + (long)b * H * W * Ci;
    const f32 *dyb = dy + (long)b * Ho * Wo * Co;
    for (int t = t0; t < t1; t++) {
      const int i = t / kw, j = t % kw;
      const int ybase = i * dh - pt;
      const int oy0 = first_inside(ybase, sh);
      const int oy1 = min_i(Ho, end_inside(ybase, sh, H));
      if (oy0 >= oy1) continue;
      {
        const int xbase = j * dwl - pl;
        const int ox0 = first_inside(xbase, sw);
        const int ox1 = min_i(Wo, end_inside(xbase, sw, W));
        if (ox0 >= ox1) continue;
        const int nx = ox1 - ox0;
        f32 *tap = dw + (long)(i * kw + j) * Ci * Co;
        int co = 0;
        for (; co + 8 <= Co; co += 8) {
          int ci = 0;
          for (; ci + 4 <= Ci; ci += 4) {
            f32 *o = tap + (long)ci * Co + co;
            v128_t a00 = wasm_v128_load(o), a01 = wasm_v128_load(o + 4);
            v128_t a10 = wasm_v128_load(o + Co), a11 = wasm_v128_load(o + Co + 4);
            v128_t a20 = wasm_v128_load(o + 2 * Co), a21 = wasm_v128_load(o + 2 * Co + 4);
            v128_t a30 = wasm_v128_load(o + 3 * Co), a31 = wasm_v128_load(o + 3 * Co + 4);
            for (int oy = oy0; oy < oy1; oy++) {
              const f32 *xp = xb + ((long)(oy * sh + ybase) * W + ox0 * sw + xbase) * Ci + ci;
              const f32 *dp = dyb + ((long)oy * Wo + ox0) * Co + co;
              for (int n = 0; n < nx; n++) {
                const v128_t d0 = wasm_v128_load(dp), d1 = wasm_v128_load(dp + 4);
                v128_t s = wasm_v128_load32_splat(xp);
                a00 = MADD(a00, s, d0);
                a01 = MADD(a01, s, d1);
                s = wasm_v128_load32_splat(xp + 1);
                a10 = MADD(a10, s, d0);
                a11 = MADD(a11, s, d1);
                s = wasm_v128_load32_splat(xp + 2);
                a20 = MADD(a20, s, d0);
                a21 = MADD(a21, s, d1);
                s = wasm_v128_load32_splat(xp + 3);
                a30 = MADD(a30, s, d0);
                a31 = MADD(a31, s, d1);
                xp += xs;
                dp += Co;
              }
            }
            wasm_v128_store(o, a00), wasm_v128_store(o + 4, a01);
            wasm_v128_store(o + Co, a10), wasm_v128_store(o + Co + 4, a11);
            wasm_v128_store(o + 2 * Co, a20), wasm_v128_store(o + 2 * Co + 4, a21);
            wasm_v128_store(o + 3 * Co, a30), wasm_v128_store(o + 3 * Co + 4, a31);
          }
          if (ci + 3 == Ci) {
            /* 3 channels left (an RGB image): one pass for all three. */
            f32 *o = tap + (long)ci * Co + co;
            v128_t a00 = wasm_v128_load(o), a01 = wasm_v128_load(o + 4);
            v128_t a10 = wasm_v128_load(o + Co), a11 = wasm_v128_load(o + Co + 4);
            v128_t a20 = wasm_v128_load(o + 2 * Co), a21 = wasm_v128_load(o + 2 * Co + 4);
            for (int oy = oy0; oy < oy1; oy++) {
              const f32 *xp = xb + ((long)(oy * sh + ybase) * W + ox0 * sw + xbase) * Ci + ci;
              const f32 *dp = dyb + ((long)oy * Wo + ox0) * Co + co;
              for (int n = 0; n < nx; n++) {
                const v128_t d0 = wasm_v128_load(dp), d1 = wasm_v128_load(dp + 4);
                v128_t s = wasm_v128_load32_splat(xp);
                a00 = MADD(a00, s, d0);
                a01 = MADD(a01, s, d1);
                s = wasm_v128_load32_splat(xp + 1);
                a10 = MADD(a10, s, d0);
                a11 = MADD(a11, s, d1);
                s = wasm_v128_load32_splat(xp + 2);
                a20 = MADD(a20, s, d0);
                a21 = MADD(a21, s, d1);
                xp += xs;
                dp += Co;
              }
            }
            wasm_v128_store(o, a00), wasm_v128_store(o + 4, a01);
            wasm_v128_store(o + Co, a10), wasm_v128_store(o + Co + 4, a11);
            wasm_v128_store(o + 2 * Co, a20), wasm_v128_store(o + 2 * Co + 4, a21);
            ci += 3;
          }
          for (; ci < Ci; ci++) {
            f32 *o = tap + (long)ci * Co + co;
            v128_t a0 = wasm_v128_load(o), a1 = wasm_v128_load(o + 4);
            for (int oy = oy0; oy < oy1; oy++) {
              const f32 *xp = xb + ((long)(oy * sh + ybase) * W + ox0 * sw + xbase) * Ci + ci;
              const f32 *dp = dyb + ((long)oy * Wo + ox0) * Co + co;
              for (int n = 0; n < nx; n++) {
                const v128_t s = wasm_v128_load32_splat(xp);
                a0 = MADD(a0, s, wasm_v128_load(dp));
                a1 = MADD(a1, s, wasm_v128_load(dp + 4));
                xp += xs;
                dp += Co;
              }
            }
            wasm_v128_store(o, a0), wasm_v128_store(o + 4, a1);
          }
        }
        for (; co + 4 <= Co; co += 4) {
          for (int ci = 0; ci < Ci; ci++) {
            f32 *o = tap + (long)ci * Co + co;
            v128_t a0 = wasm_v128_load(o);
            for (int oy = oy0; oy < oy1; oy++) {
              const f32 *xp = xb + ((long)(oy * sh + ybase) * W + ox0 * sw + xbase) * Ci + ci;
              const f32 *dp = dyb + ((long)oy * Wo + ox0) * Co + co;
              for (int n = 0; n < nx; n++) {
                a0 = MADD(a0, wasm_v128_load32_splat(xp), wasm_v128_load(dp));
                xp += xs;
                dp += Co;
              }
            }
            wasm_v128_store(o, a0);
          }
        }
        for (; co < Co; co++) {
          for (int ci = 0; ci < Ci; ci++) {
            f32 acc = tap[(long)ci * Co + co];
            for (int oy = oy0; oy < oy1; oy++) {
              const f32 *xp = xb + ((long)(oy * sh + ybase) * W + ox0 * sw + xbase) * Ci + ci;
              const f32 *dp = dyb + ((long)oy * Wo + ox0) * Co + co;
              for (int n = 0; n < nx; n++) {
                acc += *xp * *dp;
                xp += xs;
                dp += Co;
              }
            }
            tap[(long)ci * Co + co] = acc;
          }
        }
      }
    }
  }
}

/*
 * out[c] = scale * sum_r x[r, c] for x [R, C]: Sum (scale 1) or Mean (scale 1/R) over the
 * leading axes of a tensor, without the transpose the stock kernels make first. Rows are added
 * in order, as the stock kernel adds them after its transpose.
 */
EXPORT(sum_leading)
void sum_leading(const f32 *x, f32 *out, int R, int C, f32 scale, int apply_scale) {
  int c = 0;
  for (; c + 16 <= C; c += 16) {
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
    const f32 *p = x + c;
    for (int r = 0; r < R; r++) {
      a0 = wasm_f32x4_add(a0, wasm_v128_load(p));
      a1 = wasm_f32x4_add(a1, wasm_v128_load(p + 4));
      a2 = wasm_f32x4_add(a2, wasm_v128_load(p + 8));
      a3 = wasm_f32x4_add(a3, wasm_v128_load(p + 12));
      p += C;
    }
    if (apply_scale) {
      const v128_t s = wasm_f32x4_splat(scale);
      a0 = wasm_f32x4_mul(a0, s), a1 = wasm_f32x4_mul(a1, s);
      a2 = wasm_f32x4_mul(a2, s), a3 = wasm_f32x4_mul(a3, s);
    }
    wasm_v128_store(out + c, a0), wasm_v128_store(out + c + 4, a1);
    wasm_v128_store(out + c + 8, a2), wasm_v128_store(out + c + 12, a3);
  }
  for (; c + 4 <= C; c += 4) {
    v128_t a0 = wasm_f32x4_splat(0.0f);
    const f32 *p = x + c;
    for (int r = 0; r < R; r++) {
      a0 = wasm_f32x4_add(a0, wasm_v128_load(p));
      p += C;
    }
    if (apply_scale) a0 = wasm_f32x4_mul(a0, wasm_f32x4_splat(scale));
    wasm_v128_store(out + c, a0);
  }
  for (; c < C; c++) {
    f32 a = 0.0f;
    for (int r = 0; r < R; r++) a += x[(long)r * C + c];
    out[c] = apply_scale ? a * scale : a;
  }
}

/*
 * One Adam step (Kingma & Ba 2015, arXiv:1412.6980) for n values, with the operations in the
 * order tfjs's AdamOptimizer applies them:
 *   m' = m*b1 + g*(1-b1);  v' = v*b2 + g^2*(1-b2)
 *   w' = ((m'/c1) / (sqrt(v'/c2) + eps)) * (-lr) + w,   c1 = 1 - b1^t, c2 = 1 - b2^t.
 * Outputs may alias their inputs.
 */
EXPORT(adam_update)
void adam_update(const f32 *w, const f32 *m, const f32 *v, const f32 *g, f32 *w_out, f32 *m_out,
                 f32 *v_out, int n, f32 b1, f32 one_minus_b1, f32 b2, f32 one_minus_b2, f32 c1,
                 f32 c2, f32 eps, f32 neg_lr) {
  const v128_t vb1 = wasm_f32x4_splat(b1), vob1 = wasm_f32x4_splat(one_minus_b1);
  const v128_t vb2 = wasm_f32x4_splat(b2), vob2 = wasm_f32x4_splat(one_minus_b2);
  const v128_t vc1 = wasm_f32x4_splat(c1), vc2 = wasm_f32x4_splat(c2);
  const v128_t veps = wasm_f32x4_splat(eps), vlr = wasm_f32x4_splat(neg_lr);
  int k = 0;
  for (; k + 4 <= n; k += 4) {
    const v128_t gv = wasm_v128_load(g + k);
    const v128_t mn = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + k), vb1),
                                     wasm_f32x4_mul(gv, vob1));
    const v128_t vn = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + k), vb2),
                                     wasm_f32x4_mul(wasm_f32x4_mul(gv, gv), vob2));
    const v128_t den = wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_div(vn, vc2)), veps);
    const v128_t step = wasm_f32x4_mul(wasm_f32x4_div(wasm_f32x4_div(mn, vc1), den), vlr);
    const v128_t wn = wasm_f32x4_add(step, wasm_v128_load(w + k));
    wasm_v128_store(m_out + k, mn);
    wasm_v128_store(v_out + k, vn);
    wasm_v128_store(w_out + k, wn);
  }
  for (; k < n; k++) {
    const f32 gk = g[k];
    const f32 mn = m[k] * b1 + gk * one_minus_b1;
    const f32 vn = v[k] * b2 + (gk * gk) * one_minus_b2;
    const f32 den = __builtin_sqrtf(vn / c2) + eps;
    const f32 wn = ((mn / c1) / den) * neg_lr + w[k];
    m_out[k] = mn;
    v_out[k] = vn;
    w_out[k] = wn;
  }
}

/*
 * tanh, elementwise, for n values (in may equal out). The stock kernel calls a scalar tanh per
 * value (~18 ns each). Constants are Cephes's tanhf and expf (S. L. Moshier, Cephes Math
 * Library, 1984-1992):
 *   |x| < 0.625:  tanh x = x + x z P(z), z = x^2, with tanhf's degree-4 P;
 *   otherwise:    tanh |x| = 1 - 2 / (exp(2|x|) + 1), with |x| clamped to 10 (tanh 10 rounds to 1),
 *                 exp by expf's reduction x = n ln2 + r and degree-5 polynomial in r.
 * Accurate to a few float32 ulps; NaN stays NaN.
 */
static inline v128_t exp_f32x4(v128_t x) {
  const v128_t fx = wasm_f32x4_floor(
      wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)),
                     wasm_f32x4_splat(0.5f)));
  x = wasm_f32x4_sub(x, wasm_f32x4_mul(fx, wasm_f32x4_splat(0.693359375f)));
  x = wasm_f32x4_sub(x, wasm_f32x4_mul(fx, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t y = wasm_f32x4_splat(1.9875691500e-4f);
  y = wasm_f32x4_add(wasm_f32x4_mul(y, x), wasm_f32x4_splat(1.3981999507e-3f));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, x), wasm_f32x4_splat(8.3334519073e-3f));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, x), wasm_f32x4_splat(4.1665795894e-2f));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, x), wasm_f32x4_splat(1.6666665459e-1f));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, x), wasm_f32x4_splat(5.0000001201e-1f));
  y = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(y, wasm_f32x4_mul(x, x)), x),
                     wasm_f32x4_splat(1.0f));
  const v128_t pow2n = wasm_i32x4_shl(
      wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(fx), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(y, pow2n);
}

static inline v128_t tanh_f32x4(v128_t x) {
  const v128_t sign = wasm_v128_and(x, wasm_i32x4_splat((int)0x80000000));
  const v128_t ax = wasm_f32x4_min(wasm_f32x4_abs(x), wasm_f32x4_splat(10.0f));
  /* large: 1 - 2 / (exp(2|x|) + 1) */
  const v128_t e = exp_f32x4(wasm_f32x4_add(ax, ax));
  const v128_t large = wasm_f32x4_sub(
      wasm_f32x4_splat(1.0f),
      wasm_f32x4_div(wasm_f32x4_splat(2.0f), wasm_f32x4_add(e, wasm_f32x4_splat(1.0f))));
  /* small: |x| + |x| z P(z) */
  const v128_t z = wasm_f32x4_mul(ax, ax);
  v128_t p = wasm_f32x4_splat(-5.70498872745e-3f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), wasm_f32x4_splat(2.06390887954e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), wasm_f32x4_splat(-5.37397155531e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), wasm_f32x4_splat(1.33314422036e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), wasm_f32x4_splat(-3.33332819422e-1f));
  const v128_t small = wasm_f32x4_add(ax, wasm_f32x4_mul(wasm_f32x4_mul(ax, z), p));
  const v128_t r = wasm_v128_bitselect(small, large, wasm_f32x4_lt(ax, wasm_f32x4_splat(0.625f)));
  /* NaN inputs come out of the branches above as NaN of either sign; return x itself. */
  const v128_t nan = wasm_f32x4_ne(x, x);
  return wasm_v128_bitselect(x, wasm_v128_or(r, sign), nan);
}

EXPORT(tanh_f32)
void tanh_f32(const f32 *in, f32 *out, int n) {
  int k = 0;
  for (; k + 4 <= n; k += 4) wasm_v128_store(out + k, tanh_f32x4(wasm_v128_load(in + k)));
  for (; k < n; k++) {
    const v128_t r = tanh_f32x4(wasm_f32x4_splat(in[k]));
    out[k] = wasm_f32x4_extract_lane(r, 0);
  }
}

/*
 * Direct convolutions. Both kernels below accumulate tiles of 4 output pixels x 8 (or 4)
 * channels in vector registers: for each filter tap, the 4 pixels' input rows (K contiguous
 * values each) are broadcast one value at a time against K rows of the tap's weights. A pixel
 * whose tap falls into the zero padding reads `zeros` (K zero floats) instead, so the inner loop
 * has no bounds tests. Each call computes output rows [r0, r1), so threads can share one call.
 */
#define DECL8(z) v128_t a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z
#define DECL4(z) v128_t a00 = z, a10 = z, a20 = z, a30 = z

#define STEP8(P0, P1, P2, P3, WP, K, LDW)                                   \
  do {                                                                     \
    const f32 *q0 = (P0), *q1 = (P1), *q2 = (P2), *q3 = (P3), *qw = (WP);  \
    for (int k = 0; k < (K); k++) {                                        \
      const v128_t b0 = wasm_v128_load(qw), b1 = wasm_v128_load(qw + 4);   \
      v128_t s = wasm_v128_load32_splat(q0 + k);                           \
      a00 = MADD(a00, s, b0);                    \
      a01 = MADD(a01, s, b1);                    \
      s = wasm_v128_load32_splat(q1 + k);                                  \
      a10 = MADD(a10, s, b0);                    \
      a11 = MADD(a11, s, b1);                    \
      s = wasm_v128_load32_splat(q2 + k);                                  \
      a20 = MADD(a20, s, b0);                    \
      a21 = MADD(a21, s, b1);                    \
      s = wasm_v128_load32_splat(q3 + k);                                  \
      a30 = MADD(a30, s, b0);                    \
      a31 = MADD(a31, s, b1);                    \
      qw += (LDW);                                                         \
    }                                                                      \
  } while (0)

#define STEP4(P0, P1, P2, P3, WP, K, LDW)                                   \
  do {                                                                     \
    const f32 *q0 = (P0), *q1 = (P1), *q2 = (P2), *q3 = (P3), *qw = (WP);  \
    for (int k = 0; k < (K); k++) {                                        \
      const v128_t b0 = wasm_v128_load(qw);                                \
      a00 = MADD(a00, wasm_v128_load32_splat(q0 + k), b0); \
      a10 = MADD(a10, wasm_v128_load32_splat(q1 + k), b0); \
      a20 = MADD(a20, wasm_v128_load32_splat(q2 + k), b0); \
      a30 = MADD(a30, wasm_v128_load32_splat(q3 + k), b0); \
      qw += (LDW);                                                         \
    }                                                                      \
  } while (0)

/* Store pixel p's accumulators at OUT(p) for the first NP pixels. */
#define STORE8(NP, OUT)                                                      \
  do {                                                                      \
    wasm_v128_store(OUT(0), a00), wasm_v128_store(OUT(0) + 4, a01);          \
    if ((NP) > 1) wasm_v128_store(OUT(1), a10), wasm_v128_store(OUT(1) + 4, a11); \
    if ((NP) > 2) wasm_v128_store(OUT(2), a20), wasm_v128_store(OUT(2) + 4, a21); \
    if ((NP) > 3) wasm_v128_store(OUT(3), a30), wasm_v128_store(OUT(3) + 4, a31); \
  } while (0)

#define STORE4(NP, OUT)                                \
  do {                                                \
    wasm_v128_store(OUT(0), a00);                      \
    if ((NP) > 1) wasm_v128_store(OUT(1), a10);        \
    if ((NP) > 2) wasm_v128_store(OUT(2), a20);        \
    if ((NP) > 3) wasm_v128_store(OUT(3), a30);        \
  } while (0)

/*
 * Weights for the direct convolutions, packed so that the inner loop reads them contiguously:
 * the matrix [T*K, N] with element (t, k, n) at src[t*ts + k*ks + n*ns] goes to column blocks
 * of 8 (then one of 4 where N % 8 == 4), each block [T*K][8] (or [T*K][4]) in turn. N must be a
 * multiple of 4.
 */
EXPORT(pack_weights)
void pack_weights(const f32 *src, f32 *dst, int T, int K, int N, int ts, int ks, int ns) {
  int n0 = 0;
  for (; n0 + 8 <= N || n0 + 4 <= N; n0 += (n0 + 8 <= N ? 8 : 4)) {
    const int width = n0 + 8 <= N ? 8 : 4;
    for (int t = 0; t < T; t++) {
      for (int k = 0; k < K; k++) {
        const f32 *from = src + (long)t * ts + (long)k * ks + (long)n0 * ns;
        for (int n = 0; n < width; n++) dst[n] = from[(long)n * ns];
        dst += width;
      }
    }
  }
}

/*
 * y[b, oy, ox, co] = act(sum_{i, j, ci} x[b, oy*sh + i*dh - pt, ox*sw + j*dwl - pl, ci]
 *                                    * w[i, j, ci, co] + bias[co])
 * x [B, H, W, Ci] with its pixels xs floats apart (xs = Ci for a plain tensor); wp the filter
 * [kh, kw, Ci, Co] packed by pack_weights (T = kh*kw, K = Ci, N = Co); bias [Co] or 0 for none;
 * y [B, Ho, Wo, Co]; act is the identity or, with relu != 0, max(0, .). Co must be a multiple of
 * 4; zeros holds Ci zeros. Rows r = b * Ho + oy in [r0, r1). One column block of weights is
 * swept over all rows before the next, so it stays in cache.
 *
 * With xs < Ci, pixel windows overlap. For few input channels the caller uses that to read a
 * whole filter row as one tap: over a padded input of c channels, kw = 1 and Ci = kw' * c with
 * xs = c make each tap's Ci values the kw' neighbouring pixels of the real filter row, which lie
 * next to each other in memory, and the filter packed for (kh, kw', c) is already the filter
 * packed for (kh, 1, kw' * c).
 */
EXPORT(conv2d_forward)
void conv2d_forward(const f32 *x, const f32 *wp, const f32 *bias, const f32 *zeros, f32 *y, int B,
                    int H, int W, int Ci, int xs, int Ho, int Wo, int Co, int kh, int kw, int sh,
                    int sw, int dh, int dwl, int pt, int pl, int relu, int r0, int r1) {
  (void)B;
  const v128_t z = wasm_f32x4_splat(0.0f);
  const long tk = (long)kh * kw * Ci;
#define XPTR(P)                                                                     \
  ({                                                                               \
    const int ix_ = (ox + (P)) * sw + j * dwl - pl;                                \
    ((P) < np && ix_ >= 0 && ix_ < W) ? xrow + (long)ix_ * xs : zeros;             \
  })
#define YPTR(P) (yr + (long)(ox + (P)) * Co + co)
  int co = 0;
  for (; co + 8 <= Co; co += 8) {
    const f32 *wb = wp + (long)co * tk;
    const v128_t c0 = bias ? wasm_v128_load(bias + co) : z;
    const v128_t c1 = bias ? wasm_v128_load(bias + co + 4) : z;
    for (int r = r0; r < r1; r++) {
      const int b = r / Ho, oy = r - b * Ho;
      const f32 *xb = x + (long)b * H * W * xs;
      f32 *yr = y + (long)r * Wo * Co;
      for (int ox = 0; ox < Wo; ox += 4) {
        const int np = min_i(4, Wo - ox);
        DECL8(z);
        for (int i = 0; i < kh; i++) {
          const int iy = oy * sh + i * dh - pt;
          if (iy < 0 || iy >= H) continue;
          const f32 *xrow = xb + (long)iy * W * xs;
          for (int j = 0; j < kw; j++) {
            STEP8(XPTR(0), XPTR(1), XPTR(2), XPTR(3), wb + (long)(i * kw + j) * Ci * 8, Ci, 8);
          }
        }
        if (bias) {
          a00 = wasm_f32x4_add(a00, c0), a01 = wasm_f32x4_add(a01, c1);
          a10 = wasm_f32x4_add(a10, c0), a11 = wasm_f32x4_add(a11, c1);
          a20 = wasm_f32x4_add(a20, c0), a21 = wasm_f32x4_add(a21, c1);
          a30 = wasm_f32x4_add(a30, c0), a31 = wasm_f32x4_add(a31, c1);
        }
        if (relu) {
          a00 = wasm_f32x4_max(a00, z), a01 = wasm_f32x4_max(a01, z);
          a10 = wasm_f32x4_max(a10, z), a11 = wasm_f32x4_max(a11, z);
          a20 = wasm_f32x4_max(a20, z), a21 = wasm_f32x4_max(a21, z);
          a30 = wasm_f32x4_max(a30, z), a31 = wasm_f32x4_max(a31, z);
        }
        STORE8(np, YPTR);
      }
    }
  }
  if (co + 4 <= Co) {
    const f32 *wb = wp + (long)co * tk;
    const v128_t c0 = bias ? wasm_v128_load(bias + co) : z;
    for (int r = r0; r < r1; r++) {
      const int b = r / Ho, oy = r - b * Ho;
      const f32 *xb = x + (long)b * H * W * xs;
      f32 *yr = y + (long)r * Wo * Co;
      for (int ox = 0; ox < Wo; ox += 4) {
        const int np = min_i(4, Wo - ox);
        DECL4(z);
        for (int i = 0; i < kh; i++) {
          const int iy = oy * sh + i * dh - pt;
          if (iy < 0 || iy >= H) continue;
          const f32 *xrow = xb + (long)iy * W * xs;
          for (int j = 0; j < kw; j++) {
            STEP4(XPTR(0), XPTR(1), XPTR(2), XPTR(3), wb + (long)(i * kw + j) * Ci * 4, Ci, 4);
          }
        }
        if (bias) {
          a00 = wasm_f32x4_add(a00, c0), a10 = wasm_f32x4_add(a10, c0);
          a20 = wasm_f32x4_add(a20, c0), a30 = wasm_f32x4_add(a30, c0);
        }
        if (relu) {
          a00 = wasm_f32x4_max(a00, z), a10 = wasm_f32x4_max(a10, z);
          a20 = wasm_f32x4_max(a20, z), a30 = wasm_f32x4_max(a30, z);
        }
        STORE4(np, YPTR);
      }
    }
  }
#undef XPTR
#undef YPTR
}

/*
 * Input gradient of the convolution above (also the forward pass of a transposed convolution):
 *   dx[b, iy, ix, ci] = sum over taps (i, j) and output pixels (oy, ox) with
 *                       oy*sh + i*dh - pt = iy and ox*sw + j*dwl - pl = ix of
 *                       sum_co dy[b, oy, ox, co] * w[i, j, ci, co].
 * wp is w packed by pack_weights as the matrix (t, co, ci) (T = kh*kw, K = Co, N = Ci); dx
 * [B, H, W, Ci] is overwritten; Ci must be a multiple of 4; zeros holds Co zeros. The columns of
 * a dx row are visited by stride phase (ix = px + sw*q), for which the contributing taps j and
 * the dy columns ox = q + const are the same for 4 neighbouring q. Rows r = b * H + iy in
 * [r0, r1), one column block of weights at a time.
 */
EXPORT(conv2d_backprop_input)
void conv2d_backprop_input(const f32 *dy, const f32 *wp, const f32 *zeros, f32 *dx, int B, int H,
                           int W, int Ci, int Ho, int Wo, int Co, int kh, int kw, int sh, int sw,
                           int dh, int dwl, int pt, int pl, int r0, int r1) {
  (void)B;
  const v128_t z = wasm_f32x4_splat(0.0f);
  const long tk = (long)kh * kw * Co;
#define DYPTR(P)                                                                   \
  ({                                                                              \
    const int ox_ = oxbase + q + (P);                                             \
    ((P) < np && ox_ >= 0 && ox_ < Wo) ? dyrow + (long)ox_ * Co : zeros;          \
  })
#define DXPTR(P) (dxr + (long)(px + sw * (q + (P))) * Ci + ci)
/* The taps that reach dx row iy and phase px. Without dilation they are i = i0 + sh*m (dy row
 * oyq - m) and j = j0 + sw*mj (dy columns from oxq - mj), found once per row and phase: no
 * division in the loops over pixels. With dilation each tap is tested. */
#define TAPS(STEP, WIDTH)                                                          \
  if (unit) {                                                                     \
    for (int i = i0, m = 0; i < kh; i += sh, m++) {                               \
      const int oy = oyq - m;                                                     \
      if (oy < 0) break;                                                          \
      if (oy >= Ho) continue;                                                     \
      const f32 *dyrow = dy + ((long)b * Ho + oy) * Wo * Co;                      \
      for (int j = j0, mj = 0; j < kw; j += sw, mj++) {                           \
        const int oxbase = oxq - mj;                                              \
        STEP(DYPTR(0), DYPTR(1), DYPTR(2), DYPTR(3),                              \
             wb + (long)(i * kw + j) * Co * (WIDTH), Co, WIDTH);                  \
      }                                                                           \
    }                                                                             \
  } else {                                                                        \
    for (int i = 0; i < kh; i++) {                                                \
      const int t = iy + pt - i * dh;                                             \
      if (t < 0 || t % sh != 0 || t / sh >= Ho) continue;                         \
      const f32 *dyrow = dy + ((long)b * Ho + t / sh) * Wo * Co;                  \
      for (int j = 0; j < kw; j++) {                                              \
        const int u = px + pl - j * dwl;                                          \
        if (((u % sw) + sw) % sw != 0) continue;                                  \
        const int oxbase = u / sw;                                                \
        STEP(DYPTR(0), DYPTR(1), DYPTR(2), DYPTR(3),                              \
             wb + (long)(i * kw + j) * Co * (WIDTH), Co, WIDTH);                  \
      }                                                                           \
    }                                                                             \
  }
  const int unit = dh == 1 && dwl == 1;
  int ci = 0;
  for (; ci + 8 <= Ci || ci + 4 <= Ci; ci += (ci + 8 <= Ci ? 8 : 4)) {
    const int wide = ci + 8 <= Ci;
    const f32 *wb = wp + (long)ci * tk;
    for (int r = r0; r < r1; r++) {
      const int b = r / H, iy = r - b * H;
      const int i0 = (iy + pt) % sh, oyq = (iy + pt - i0) / sh;
      f32 *dxr = dx + (long)r * W * Ci;
      for (int px = 0; px < sw && px < W; px++) {
        const int j0 = (px + pl) % sw, oxq = (px + pl - j0) / sw;
        const int nq = (W - px + sw - 1) / sw;
        for (int q = 0; q < nq; q += 4) {
          const int np = min_i(4, nq - q);
          if (wide) {
            DECL8(z);
            TAPS(STEP8, 8);
            STORE8(np, DXPTR);
          } else {
            DECL4(z);
            TAPS(STEP4, 4);
            STORE4(np, DXPTR);
          }
        }
      }
    }
  }
#undef TAPS
#undef DYPTR
#undef DXPTR
}

/* LeakyReLU: out = x > 0 ? x : alpha * x, for n values (in may equal out). */
EXPORT(leaky_relu_f32)
void leaky_relu_f32(const f32 *in, f32 *out, int n, f32 alpha) {
  const v128_t va = wasm_f32x4_splat(alpha), z = wasm_f32x4_splat(0.0f);
  int k = 0;
  for (; k + 4 <= n; k += 4) {
    const v128_t x = wasm_v128_load(in + k);
    wasm_v128_store(out + k, wasm_v128_bitselect(x, wasm_f32x4_mul(x, va), wasm_f32x4_gt(x, z)));
  }
  for (; k < n; k++) out[k] = in[k] > 0.0f ? in[k] : alpha * in[k];
}

/* LeakyReLU's gradient: out = x > 0 ? dy : alpha * dy (a NaN x takes alpha * dy, as in tfjs). */
EXPORT(leaky_relu_grad_f32)
void leaky_relu_grad_f32(const f32 *dy, const f32 *x, f32 *out, int n, f32 alpha) {
  const v128_t va = wasm_f32x4_splat(alpha), z = wasm_f32x4_splat(0.0f);
  int k = 0;
  for (; k + 4 <= n; k += 4) {
    const v128_t g = wasm_v128_load(dy + k);
    const v128_t positive = wasm_f32x4_gt(wasm_v128_load(x + k), z);
    wasm_v128_store(out + k, wasm_v128_bitselect(g, wasm_f32x4_mul(g, va), positive));
  }
  for (; k < n; k++) out[k] = x[k] > 0.0f ? dy[k] : alpha * dy[k];
}

/*
 * Batch normalisation with given statistics, x [R, C] (channels last):
 *   out[r, c] = (x[r, c] - mean[c]) * (scale[c] / sqrt(variance[c] + eps)) + offset[c]
 * scale and offset may be 0 (1 and 0). factor [C] is scratch for the per-channel multiplier.
 * C must be a multiple of 4.
 */
EXPORT(batch_norm_f32)
void batch_norm_f32(const f32 *x, const f32 *mean, const f32 *variance, const f32 *scale,
                    const f32 *offset, f32 *factor, f32 *out, int R, int C, f32 eps) {
  for (int c = 0; c < C; c++) {
    factor[c] = (scale ? scale[c] : 1.0f) / __builtin_sqrtf(variance[c] + eps);
  }
  for (int r = 0; r < R; r++) {
    const f32 *xr = x + (long)r * C;
    f32 *orow = out + (long)r * C;
    for (int c = 0; c < C; c += 4) {
      const v128_t m = wasm_v128_load(mean + c), f = wasm_v128_load(factor + c);
      const v128_t o = offset ? wasm_v128_load(offset + c) : wasm_f32x4_splat(0.0f);
      const v128_t v = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), m), f);
      wasm_v128_store(orow + c, wasm_f32x4_add(v, o));
    }
  }
}

/*
 * out[m, n] = act(sum_k a[m, k] * b[k, n] + bias[n]) for rows m in [m0, m1): a [M, K] row-major,
 * bp the matrix b [K, N] packed by pack_weights (T = 1), bias [N] or 0, relu as in
 * conv2d_forward. N must be a multiple of 4. Tiles of 4 rows x 8 (or 4) columns.
 */
EXPORT(matmul)
void matmul(const f32 *a, const f32 *bp, const f32 *bias, f32 *out, int M, int K, int N, int relu,
            int m0, int m1) {
  (void)M;
  const v128_t z = wasm_f32x4_splat(0.0f);
#define APTR(P) (a + (long)min_i(m + (P), m1 - 1) * K)
#define OPTR(P) (out + (long)(m + (P)) * N + n)
  int n = 0;
  for (; n + 8 <= N; n += 8) {
    const f32 *wb = bp + (long)n * K;
    const v128_t c0 = bias ? wasm_v128_load(bias + n) : z;
    const v128_t c1 = bias ? wasm_v128_load(bias + n + 4) : z;
    for (int m = m0; m < m1; m += 4) {
      const int np = min_i(4, m1 - m);
      DECL8(z);
      STEP8(APTR(0), APTR(1), APTR(2), APTR(3), wb, K, 8);
      a00 = wasm_f32x4_add(a00, c0), a01 = wasm_f32x4_add(a01, c1);
      a10 = wasm_f32x4_add(a10, c0), a11 = wasm_f32x4_add(a11, c1);
      a20 = wasm_f32x4_add(a20, c0), a21 = wasm_f32x4_add(a21, c1);
      a30 = wasm_f32x4_add(a30, c0), a31 = wasm_f32x4_add(a31, c1);
      if (relu) {
        a00 = wasm_f32x4_max(a00, z), a01 = wasm_f32x4_max(a01, z);
        a10 = wasm_f32x4_max(a10, z), a11 = wasm_f32x4_max(a11, z);
        a20 = wasm_f32x4_max(a20, z), a21 = wasm_f32x4_max(a21, z);
        a30 = wasm_f32x4_max(a30, z), a31 = wasm_f32x4_max(a31, z);
      }
      STORE8(np, OPTR);
    }
  }
  if (n + 4 <= N) {
    const f32 *wb = bp + (long)n * K;
    const v128_t c0 = bias ? wasm_v128_load(bias + n) : z;
    for (int m = m0; m < m1; m += 4) {
      const int np = min_i(4, m1 - m);
      DECL4(z);
      STEP4(APTR(0), APTR(1), APTR(2), APTR(3), wb, K, 4);
      a00 = wasm_f32x4_add(a00, c0), a10 = wasm_f32x4_add(a10, c0);
      a20 = wasm_f32x4_add(a20, c0), a30 = wasm_f32x4_add(a30, c0);
      if (relu) {
        a00 = wasm_f32x4_max(a00, z), a10 = wasm_f32x4_max(a10, z);
        a20 = wasm_f32x4_max(a20, z), a30 = wasm_f32x4_max(a30, z);
      }
      STORE4(np, OPTR);
    }
  }
#undef APTR
#undef OPTR
}

/*
 * Channel padding: pad_channels writes src [P, C] into dst [P, Cp] (Cp >= C) with zeros in the
 * new channels; crop_channels writes the first C of each Cp channels of src into dst [P, C].
 */
EXPORT(pad_channels)
void pad_channels(const f32 *src, f32 *dst, int P, int C, int Cp) {
  for (int p = 0; p < P; p++) {
    for (int c = 0; c < C; c++) dst[c] = src[c];
    for (int c = C; c < Cp; c++) dst[c] = 0.0f;
    src += C;
    dst += Cp;
  }
}

EXPORT(crop_channels)
void crop_channels(const f32 *src, f32 *dst, int P, int Cp, int C) {
  for (int p = 0; p < P; p++) {
    for (int c = 0; c < C; c++) dst[c] = src[c];
    src += Cp;
    dst += C;
  }
}

/*
 * Element-wise a op b (op: 0 add, 1 subtract, 2 multiply, 3 divide) in float32, with the
 * broadcasts of bias and normalisation arithmetic in channels-last tensors:
 *   mode 0: a and b [R * C]                 mode 1: a [R, C], b [C] (repeated over rows)
 *   mode 2: a [C] (repeated), b [R, C]      mode 3: a [R * C], b one value
 *   mode 4: a one value, b [R * C]
 * out [R * C] may alias a or b.
 */
#define BINARY_LOOPS(VOP, SOP)                                                        \
  do {                                                                               \
    const long n = (long)R * C;                                                      \
    if (mode == 0 || mode == 3 || mode == 4) {                                       \
      const v128_t as = wasm_v128_load32_splat(a), bs = wasm_v128_load32_splat(b);   \
      const f32 a0 = a[0], b0 = b[0];                                                \
      long k = 0;                                                                    \
      for (; k + 4 <= n; k += 4) {                                                   \
        const v128_t x = mode == 4 ? as : wasm_v128_load(a + k);                     \
        const v128_t y = mode == 3 ? bs : wasm_v128_load(b + k);                     \
        wasm_v128_store(out + k, VOP(x, y));                                         \
      }                                                                              \
      for (; k < n; k++) {                                                           \
        const f32 x = mode == 4 ? a0 : a[k], y = mode == 3 ? b0 : b[k];              \
        out[k] = SOP(x, y);                                                          \
      }                                                                              \
    } else {                                                                         \
      for (int r = 0; r < R; r++) {                                                  \
        const f32 *ar = mode == 1 ? a + (long)r * C : a;                             \
        const f32 *br = mode == 2 ? b + (long)r * C : b;                             \
        f32 *orow = out + (long)r * C;                                               \
        int c = 0;                                                                   \
        for (; c + 4 <= C; c += 4)                                                   \
          wasm_v128_store(orow + c, VOP(wasm_v128_load(ar + c), wasm_v128_load(br + c))); \
        for (; c < C; c++) orow[c] = SOP(ar[c], br[c]);                              \
      }                                                                              \
    }                                                                                \
  } while (0)

#define S_ADD(x, y) ((x) + (y))
#define S_SUB(x, y) ((x) - (y))
#define S_MUL(x, y) ((x) * (y))
#define S_DIV(x, y) ((x) / (y))

EXPORT(binary_f32)
void binary_f32(const f32 *a, const f32 *b, f32 *out, int R, int C, int op, int mode) {
  switch (op) {
    case 0: BINARY_LOOPS(wasm_f32x4_add, S_ADD); break;
    case 1: BINARY_LOOPS(wasm_f32x4_sub, S_SUB); break;
    case 2: BINARY_LOOPS(wasm_f32x4_mul, S_MUL); break;
    default: BINARY_LOOPS(wasm_f32x4_div, S_DIV); break;
  }
}

/*
 * im2col for convolutions with few input channels: cols[p, (i*kw + j)*C + c] = x[b, oy*sh +
 * i*dh - pt, ox*sw + j*dwl - pl, c] for output pixels p = (b*Ho + oy)*Wo + ox in rows [r0, r1)
 * of B*Ho (zero outside x). With cols [B*Ho*Wo, kh*kw*C] and the filter [kh, kw, C, Co] read as
 * [kh*kw*C, Co], the convolution is one matmul.
 */
EXPORT(im2col)
void im2col(const f32 *x, f32 *cols, int B, int H, int W, int C, int Ho, int Wo, int kh, int kw,
            int sh, int sw, int dh, int dwl, int pt, int pl, int r0, int r1) {
  (void)B;
  const int K = kh * kw * C;
  for (int r = r0; r < r1; r++) {
    const int b = r / Ho, oy = r - b * Ho;
    f32 *out = cols + (long)r * Wo * K;
    for (int ox = 0; ox < Wo; ox++) {
      for (int i = 0; i < kh; i++) {
        const int iy = oy * sh + i * dh - pt;
        for (int j = 0; j < kw; j++) {
          const int ix = ox * sw + j * dwl - pl;
          if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
            for (int c = 0; c < C; c++) out[c] = 0.0f;
          } else {
            const f32 *src = x + (((long)b * H + iy) * W + ix) * C;
            for (int c = 0; c < C; c++) out[c] = src[c];
          }
          out += C;
        }
      }
    }
  }
}

/*
 * col2im, the adjoint of im2col: dx[b, iy, ix, c] = the sum of cols[p, (i*kw + j)*C + c] over
 * the taps (i, j) and pixels p = (b*Ho + oy)*Wo + ox with oy*sh + i*dh - pt = iy and
 * ox*sw + j*dwl - pl = ix. Gathers dx rows r = b * H + iy in [r0, r1), so threads can share a
 * call. Without dilation along the width, a pixel's filter row (kw*C values of cols) lands on
 * kw*C consecutive values of the dx row and is added as vectors; the pixels are taken in
 * ceil(kw/sw) passes of every ceil(kw/sw)-th column, whose segments do not overlap, so no load
 * waits on the store just before it.
 */
EXPORT(col2im)
void col2im(const f32 *cols, f32 *dx, int B, int H, int W, int C, int Ho, int Wo, int kh, int kw,
            int sh, int sw, int dh, int dwl, int pt, int pl, int r0, int r1) {
  (void)B;
  const int K = kh * kw * C, L = kw * C;
  const int passes = (kw + sw - 1) / sw;
  for (int r = r0; r < r1; r++) {
    const int b = r / H, iy = r - b * H;
    f32 *dxr = dx + (long)r * W * C;
    for (long k = 0; k < (long)W * C; k++) dxr[k] = 0.0f;
    for (int i = 0; i < kh; i++) {
      const int t = iy + pt - i * dh;
      if (t < 0 || t % sh != 0 || t / sh >= Ho) continue;
      const f32 *row = cols + ((long)b * Ho + t / sh) * Wo * K + (long)i * L;
      for (int pass = 0; pass < passes; pass++) {
        for (int ox = pass; ox < Wo; ox += passes) {
          const int ix0 = ox * sw - pl;
          const f32 *src = row + (long)ox * K;
          if (dwl == 1 && ix0 >= 0 && ix0 + kw <= W) {
            f32 *d = dxr + (long)ix0 * C;
            int k = 0;
            for (; k + 4 <= L; k += 4) {
              const v128_t sum = wasm_f32x4_add(wasm_v128_load(d + k), wasm_v128_load(src + k));
              wasm_v128_store(d + k, sum);
            }
            for (; k < L; k++) d[k] += src[k];
            continue;
          }
          for (int j = 0; j < kw; j++) {
            const int ix = ix0 + j * dwl;
            if (ix < 0 || ix >= W) continue;
            f32 *d = dxr + (long)ix * C;
            for (int c = 0; c < C; c++) d[c] += src[j * C + c];
          }
        }
      }
    }
  }
}

/*
 * dst [B, H + pt + pb, W + pl + pr, C] = src [B, H, W, C] surrounded by zeros, for rows
 * r = b * (H + pt + pb) + y of dst in [r0, r1).
 */
EXPORT(pad_spatial)
void pad_spatial(const f32 *src, f32 *dst, int B, int H, int W, int C, int pt, int pb, int pl,
                 int pr, int r0, int r1) {
  (void)B;
  const int Hp = H + pt + pb;
  const long row = (long)(W + pl + pr) * C;
  for (int r = r0; r < r1; r++) {
    const int b = r / Hp, y = r - b * Hp - pt;
    f32 *d = dst + (long)r * row;
    if (y < 0 || y >= H) {
      for (long k = 0; k < row; k++) d[k] = 0.0f;
      continue;
    }
    const f32 *s = src + ((long)b * H + y) * W * C;
    for (long k = 0; k < (long)pl * C; k++) *d++ = 0.0f;
    for (long k = 0; k < (long)W * C; k++) *d++ = s[k];
    for (long k = 0; k < (long)pr * C; k++) *d++ = 0.0f;
  }
}

/*
 * Batch statistics for batch normalisation in training, x [R, C] (channels last):
 *   mean[c] = sum_r x[r, c] / R,   variance[c] = sum_r (x[r, c] - mean[c])^2 / R
 * Two passes over the rows, each channel summed in float64 (acc, C doubles) and rounded to
 * float32 once; the second pass subtracts the rounded mean, as tfjs's moments does.
 */
EXPORT(bn_moments)
void bn_moments(const f32 *x, f32 *mean, f32 *variance, double *acc, int R, int C) {
  for (int c = 0; c < C; c++) acc[c] = 0.0;
  for (int r = 0; r < R; r++) {
    const f32 *p = x + (long)r * C;
    for (int c = 0; c < C; c++) acc[c] += (double)p[c];
  }
  for (int c = 0; c < C; c++) {
    mean[c] = (f32)(acc[c] / R);
    acc[c] = 0.0;
  }
  for (int r = 0; r < R; r++) {
    const f32 *p = x + (long)r * C;
    for (int c = 0; c < C; c++) {
      const double d = (double)p[c] - (double)mean[c];
      acc[c] += d * d;
    }
  }
  for (int c = 0; c < C; c++) variance[c] = (f32)(acc[c] / R);
}

/*
 * The per-channel sums of batch normalisation's gradient, for y = xhat * scale + offset with
 * xhat = (x - mean) / sqrt(variance + eps) and the batch's own statistics:
 *   doffset[c] = sum_r dy[r, c],   dscale[c] = sum_r dy[r, c] * xhat[r, c]
 * (summed in float64, acc holds 2C doubles).
 */
EXPORT(bn_grad_sums)
void bn_grad_sums(const f32 *dy, const f32 *x, const f32 *mean, const f32 *variance, f32 *dscale,
                  f32 *doffset, double *acc, int R, int C, f32 eps) {
  double *sdy = acc, *sdyx = acc + C;
  for (int c = 0; c < C; c++) sdy[c] = sdyx[c] = 0.0;
  for (int r = 0; r < R; r++) {
    const f32 *g = dy + (long)r * C, *p = x + (long)r * C;
    for (int c = 0; c < C; c++) {
      sdy[c] += (double)g[c];
      sdyx[c] += (double)g[c] * ((double)p[c] - (double)mean[c]);
    }
  }
  for (int c = 0; c < C; c++) {
    doffset[c] = (f32)sdy[c];
    dscale[c] = (f32)(sdyx[c] / __builtin_sqrt((double)variance[c] + (double)eps));
  }
}

/*
 * The input gradient of the same batch normalisation, from bn_grad_sums's sums:
 *   dx = scale * rs * (dy - doffset / R - (x - mean) * rs * dscale / R),  rs = 1/sqrt(var + eps)
 * coef holds 3C floats of scratch (the three per-channel factors).
 */
EXPORT(bn_grad_input)
void bn_grad_input(const f32 *dy, const f32 *x, const f32 *scale, const f32 *mean,
                   const f32 *variance, const f32 *dscale, const f32 *doffset, f32 *dx, f32 *coef,
                   int R, int C, f32 eps) {
  f32 *k = coef, *a = coef + C, *b = coef + 2 * C;
  for (int c = 0; c < C; c++) {
    const double rs = 1.0 / __builtin_sqrt((double)variance[c] + (double)eps);
    k[c] = (f32)(scale[c] * rs);
    a[c] = (f32)((double)doffset[c] / R);
    b[c] = (f32)(rs * dscale[c] / R);
  }
  for (int r = 0; r < R; r++) {
    const f32 *g = dy + (long)r * C, *p = x + (long)r * C;
    f32 *o = dx + (long)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      const v128_t d = wasm_f32x4_sub(wasm_v128_load(p + c), wasm_v128_load(mean + c));
      const v128_t t = wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(g + c), wasm_v128_load(a + c)),
                                      wasm_f32x4_mul(d, wasm_v128_load(b + c)));
      wasm_v128_store(o + c, wasm_f32x4_mul(wasm_v128_load(k + c), t));
    }
    for (; c < C; c++) o[c] = k[c] * ((g[c] - a[c]) - (p[c] - mean[c]) * b[c]);
  }
}
