//! Small dense-vector kernels shared by the factor models.

/// Dot product in eight independent lanes, so the compiler vectorises it (a plain
/// iterator sum must keep the sequential float order and does not).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a8.zip(b8) {
        for k in 0..8 {
            lanes[k] += x[k] * y[k];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Row `index` of a row-major matrix with `dims` columns; `None` past the end.
#[inline]
pub fn row(matrix: &[f32], dims: usize, index: u32) -> Option<&[f32]> {
    let start = index as usize * dims;
    matrix.get(start..start + dims)
}

/// The `k` rows most cosine-similar to row `item`, best first, without `item` itself.
pub fn cosine_neighbours(matrix: &[f32], dims: usize, item: u32, k: usize) -> Vec<(u32, f32)> {
    let Some(target) = row(matrix, dims, item) else {
        return Vec::new();
    };
    let norm = |v: &[f32]| dot(v, v).sqrt().max(f32::EPSILON);
    let target_norm = norm(target);
    let scores: Vec<f32> = matrix
        .chunks_exact(dims)
        .map(|y| dot(target, y) / (target_norm * norm(y)))
        .collect();
    crate::topk::top_k(&scores, k, |j| j == item)
}

/// How much each history item agrees with `item` in a factor space: weight x dot product.
pub fn factor_contributions(
    matrix: &[f32],
    dims: usize,
    history: &[(u32, f32)],
    item: u32,
) -> Vec<(u32, f32)> {
    let Some(target) = row(matrix, dims, item) else {
        return Vec::new();
    };
    history
        .iter()
        .filter_map(|&(h, w)| row(matrix, dims, h).map(|y| (h, w * dot(y, target))))
        .collect()
}

/// Clears the upper halves of the vector registers (`vzeroupper`) after faer's kernels,
/// which use the widest vectors the CPU has and can leave them dirty: every later SSE
/// instruction on this thread then pays for it (measured: the blend's softmax fit 7x
/// slower on a Xeon with AVX-512 after faer's matrix product). Call it after each faer
/// call on a path that other numeric code shares a thread with.
pub fn clear_upper_vector_state() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX, which is all `_mm256_zeroupper` needs.
        unsafe { std::arch::x86_64::_mm256_zeroupper() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_naive_sum() {
        let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..37).map(|i| 1.0 - i as f32 * 0.1).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-3 * naive.abs().max(1.0));
    }
}
