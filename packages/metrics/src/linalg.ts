/**
 * Dense float64 linear algebra for the Fréchet distance, on row-major `Float64Array`s.
 *
 * Notation (Heusel et al. 2017, arXiv:1706.08500; Dowson & Landau 1982):
 *   A, B   two symmetric positive semi-definite D x D matrices (covariances S1, S2)
 *   L      a pivoted Cholesky factor, A = L L^T (D x r, r = numerical rank of A)
 *   M      L^T B L, symmetric PSD r x r; its eigenvalues are the non-zero eigenvalues of A B
 *
 * tr sqrtm(A B) = sum_i sqrt(lambda_i(M)), which needs only a symmetric eigenvalue solver and
 * stays exact when A or B is singular (where sqrtm(A B) itself may not exist in real numbers).
 */

const EPS = Number.EPSILON;

/** Pivoted (rank-revealing) Cholesky factor of a PSD matrix: `A ~= L L^T`. */
export interface PivotedCholesky {
  /** `rank` columns, each a `Float64Array(n)` in the original row order. */
  columns: Float64Array[];
  rank: number;
}

/**
 * Left-looking Cholesky with diagonal pivoting (Higham, "Accuracy and Stability of Numerical
 * Algorithms", 2nd ed., sec. 10.3). Stops when the largest remaining pivot is at most
 * `n * eps * max(diag(A))`: what is left is rounding noise of a singular matrix.
 */
export function pivotedCholesky(a: Float64Array, n: number): PivotedCholesky {
  const residual = new Float64Array(n);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) {
    residual[i] = a[i * n + i]!;
    maxDiag = Math.max(maxDiag, residual[i]!);
  }
  const tolerance = n * EPS * maxDiag;
  const used = new Uint8Array(n);
  const columns: Float64Array[] = [];

  for (let k = 0; k < n; k++) {
    let pivot = -1;
    let best = tolerance;
    for (let i = 0; i < n; i++) {
      if (!used[i] && residual[i]! > best) {
        best = residual[i]!;
        pivot = i;
      }
    }
    if (pivot < 0) break;
    used[pivot] = 1;

    // column_k = (A[:, p] - sum_j L_j L_j[p]) / sqrt(d_p), zero on rows already pivoted
    const column = new Float64Array(n);
    const row = pivot * n;
    for (let i = 0; i < n; i++) if (!used[i]) column[i] = a[row + i]!;
    for (const previous of columns) {
      const scale = previous[pivot]!;
      if (scale === 0) continue;
      for (let i = 0; i < n; i++) if (!used[i]) column[i]! -= previous[i]! * scale;
    }
    const root = Math.sqrt(best);
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      column[i]! /= root;
      residual[i]! -= column[i]! * column[i]!;
    }
    column[pivot] = root;
    columns.push(column);
  }
  return { columns, rank: columns.length };
}

/** `M = L^T B L` for `L` given by columns; returns row-major `r x r`. */
export function congruence(columns: Float64Array[], b: Float64Array, n: number): Float64Array {
  const r = columns.length;

  // rows of (L^T B): y_k = sum_j L[j, k] B[j, :]
  const projected = columns.map((column) => {
    const y = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const scale = column[j]!;
      if (scale === 0) continue;
      const offset = j * n;
      for (let i = 0; i < n; i++) y[i]! += scale * b[offset + i]!;
    }
    return y;
  });
  const m = new Float64Array(r * r);
  for (let k = 0; k < r; k++) {
    const y = projected[k]!;
    for (let l = 0; l <= k; l++) {
      const column = columns[l]!;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += y[i]! * column[i]!;
      m[k * r + l] = sum;
      m[l * r + k] = sum;
    }
  }
  return m;
}

/**
 * Eigenvalues of a symmetric matrix (row-major `n x n`, not modified): Householder reduction
 * to tridiagonal form, then the implicit QL iteration with Wilkinson-type shifts
 * (Golub & Van Loan, "Matrix Computations", 4th ed., sec. 8.3). Unsorted.
 */
export function symmetricEigenvalues(input: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(input);
  const diagonal = new Float64Array(n);
  const offDiagonal = new Float64Array(n);
  const v = new Float64Array(n);
  const p = new Float64Array(n);

  for (let k = 0; k < n - 2; k++) {
    // Householder vector v for column k below the diagonal: H x = alpha e_1
    let norm = 0;
    for (let i = k + 1; i < n; i++) norm += a[i * n + k]! ** 2;
    norm = Math.sqrt(norm);
    diagonal[k] = a[k * n + k]!;
    const x0 = a[(k + 1) * n + k]!;
    const alpha = x0 > 0 ? -norm : norm;
    offDiagonal[k] = alpha;
    if (norm === 0) continue;
    let vNorm = 0;
    for (let i = k + 1; i < n; i++) {
      v[i] = a[i * n + k]! - (i === k + 1 ? alpha : 0);
      vNorm += v[i]! ** 2;
    }
    vNorm = Math.sqrt(vNorm);
    if (vNorm === 0) continue;
    for (let i = k + 1; i < n; i++) v[i]! /= vNorm;

    // A22 <- H A22 H = A22 - 2 (v q^T + q v^T), p = A22 v, q = p - (v^T p) v; only the lower
    // triangle of A22 is read and written (each off-diagonal entry feeds two rows of p)
    for (let i = k + 1; i < n; i++) p[i] = 0;
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      const vi = v[i]!;
      let sum = a[row + i]! * vi;
      for (let j = k + 1; j < i; j++) {
        const aij = a[row + j]!;
        sum += aij * v[j]!;
        p[j]! += aij * vi;
      }
      p[i]! += sum;
    }
    let vp = 0;
    for (let i = k + 1; i < n; i++) vp += v[i]! * p[i]!;
    for (let i = k + 1; i < n; i++) p[i]! -= vp * v[i]!;
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      const vi = 2 * v[i]!;
      const qi = 2 * p[i]!;
      for (let j = k + 1; j <= i; j++) a[row + j]! -= vi * p[j]! + qi * v[j]!;
    }
  }
  if (n >= 2) {
    diagonal[n - 2] = a[(n - 2) * n + n - 2]!;
    offDiagonal[n - 2] = a[(n - 1) * n + n - 2]!; // lower triangle
  }
  if (n >= 1) diagonal[n - 1] = a[n * n - 1]!;
  return tridiagonalEigenvalues(diagonal, offDiagonal, n);
}

/**
 * Implicit QL on a symmetric tridiagonal matrix: `d` diagonal, `e[i]` couples `d[i]` and
 * `d[i + 1]`. Both arrays are overwritten; returns `d` holding the eigenvalues.
 */
export function tridiagonalEigenvalues(d: Float64Array, e: Float64Array, n: number): Float64Array {
  if (n > 0) e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    for (let iteration = 0; ; iteration++) {
      // find the first negligible off-diagonal element at or after l
      let m = l;
      for (; m < n - 1; m++) {
        const scale = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= EPS * scale) break;
      }
      if (m === l) break;
      if (iteration > 60) throw new Error('tridiagonalEigenvalues: QL iteration did not converge');

      // shift from the leading 2 x 2 block, then chase the bulge from m up to l
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = Math.hypot(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let shift = 0;
      let deflated = false;
      for (let i = m - 1; i >= l; i--) {
        const f = s * e[i]!;
        const b = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1]! -= shift;
          e[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - shift;
        r = (d[i]! - g) * s + 2 * c * b;
        shift = s * r;
        d[i + 1] = g + shift;
        g = c * r - b;
      }
      if (deflated) continue;
      d[l]! -= shift;
      e[l] = g;
      e[m] = 0;
    }
  }
  return d;
}

/**
 * `tr sqrtm(A B)` for symmetric PSD `A`, `B` (row-major `n x n`): factor the one of lower
 * numerical rank, `A = L L^T`, and sum the square roots of the eigenvalues of `L^T B L`.
 * Eigenvalues below zero (rounding) count as zero.
 */
export function traceSqrtProduct(a: Float64Array, b: Float64Array, n: number): number {
  const factorA = pivotedCholesky(a, n);
  const factorB = pivotedCholesky(b, n);
  const [factor, other] = factorA.rank <= factorB.rank ? [factorA, b] : [factorB, a];
  if (factor.rank === 0) return 0;
  const m = congruence(factor.columns, other, n);
  const eigenvalues = symmetricEigenvalues(m, factor.rank);
  let trace = 0;
  for (const lambda of eigenvalues) if (lambda > 0) trace += Math.sqrt(lambda);
  return trace;
}
