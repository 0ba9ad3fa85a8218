//! Proof-level tampering of a reference model's real proof: bit flips in every region of the
//! proof transcript, truncation and extension, swapped or changed public values, and the spec
//! of the same architecture with one weight changed.

use std::ops::Range;

use zkinfer::core::circuit::CircuitPlan;
use zkinfer::{CompiledModel, ModelSpec, ProofBundle, Verifier, VerifyError};

/// A named byte range of a proof transcript.
#[derive(Clone, Debug)]
pub struct Region {
    /// What the bytes hold.
    pub name: &'static str,
    /// Where they are.
    pub bytes: Range<usize>,
}

/// One count of halo2's `CircuitCost` (read from its `Debug` form: its fields are private).
fn count(debug: &str, field: &str) -> usize {
    zkinfer::core::keys::cost_count(debug, field)
        .unwrap_or_else(|| panic!("no number {field} in {debug}"))
}

/// The regions of a proof of `circuits` circuits of this plan, in transcript order (halo2
/// 0.4.1, IPA: 32-byte points and scalars). Their lengths add up to the proof length.
pub fn proof_regions(plan: &CircuitPlan, circuits: usize) -> Vec<Region> {
    let d = zkinfer::core::keys::cost_description(plan);
    let c = |f| count(&d, f);
    let (advice, lookups, max_deg) = (c("advice_columns"), c("lookups"), c("max_deg"));
    let perm_cols = c("permutation_cols");
    let chunks = perm_cols.div_ceil(max_deg - 2);
    let evals = circuits
        * (c("instance_queries") + c("advice_queries") + 3 * chunks - 1 + 5 * lookups)
        + c("fixed_queries")
        + 1
        + perm_cols;
    let sizes = [
        ("advice commitments", circuits * advice),
        ("lookup permuted commitments", circuits * 2 * lookups),
        ("permutation product commitments", circuits * chunks),
        ("lookup product commitments", circuits * lookups),
        ("vanishing commitments", max_deg),
        ("evaluations", evals),
        ("multiopen commitment and evaluations", 1 + c("point_sets")),
        ("inner product argument", 1 + 2 * plan.k as usize + 2),
    ];
    let mut at = 0;
    sizes
        .into_iter()
        .map(|(name, n)| {
            let bytes = at..at + 32 * n;
            at = bytes.end;
            Region { name, bytes }
        })
        .collect()
}

fn rejected(verifier: &Verifier, bundle: &ProofBundle) -> VerifyError {
    verifier
        .verify(bundle)
        .expect_err("a tampered bundle must be rejected")
}

/// Two positions of `v` holding different values.
fn differing(v: &[i64]) -> (usize, usize) {
    let j = (1..v.len())
        .find(|&j| v[j] != v[0])
        .expect("two different values");
    (0, j)
}

/// Checks that every tampering of an honest `bundle` of `compiled` (one circuit) is rejected;
/// returns how many tampered bundles were tried.
pub fn check_tampering(
    compiled: &CompiledModel,
    bundle: &ProofBundle,
    verifier: &Verifier,
) -> usize {
    let spec = &compiled.model.spec;
    verifier.verify(bundle).expect("the honest bundle verifies");
    let mut tried = 0;
    let regions = proof_regions(&CircuitPlan::from_spec(spec), 1);
    assert_eq!(
        regions.last().map(|r| r.bytes.end),
        Some(bundle.proof.len()),
        "{}: proof regions {regions:?}",
        spec.name
    );
    for region in &regions {
        let r = &region.bytes;
        for pos in [r.start, (r.start + r.end) / 2, r.end - 1] {
            let mut b = bundle.clone();
            b.proof[pos] ^= 1;
            let err = rejected(verifier, &b);
            assert!(
                matches!(err, VerifyError::InvalidProof(_)),
                "{}: flip in {} at {pos}: {err}",
                spec.name,
                region.name
            );
            tried += 1;
        }
    }
    let mut b = bundle.clone();
    b.proof.truncate(bundle.proof.len() - 32);
    assert!(matches!(rejected(verifier, &b), VerifyError::Length { .. }));
    let mut b = bundle.clone();
    b.proof.extend_from_slice(&[0; 32]);
    assert!(matches!(rejected(verifier, &b), VerifyError::Length { .. }));
    tried += 2;
    // Public values: swapped inputs, swapped outputs, an output moved by one step.
    let mut b = bundle.clone();
    let (i, j) = differing(&b.inputs);
    b.inputs.swap(i, j);
    assert!(matches!(
        rejected(verifier, &b),
        VerifyError::InvalidProof(_)
    ));
    let mut b = bundle.clone();
    let (i, j) = differing(&b.outputs);
    b.outputs.swap(i, j);
    assert!(matches!(
        rejected(verifier, &b),
        VerifyError::InvalidProof(_)
    ));
    let mut b = bundle.clone();
    b.outputs[0] += if b.outputs[0] > 0 { -1 } else { 1 };
    assert!(matches!(
        rejected(verifier, &b),
        VerifyError::InvalidProof(_)
    ));
    tried += 3;
    // The same architecture with one weight changed: another commitment (private weights)
    // or other public weights and their verifying key, another spec.
    let changed = with_one_weight_changed(compiled);
    assert_ne!(changed.digest(), spec.digest());
    let verifier = Verifier::new(&changed).expect("the changed spec is valid");
    assert!(matches!(
        rejected(&verifier, bundle),
        VerifyError::SpecDigest { .. }
    ));
    let mut b = bundle.clone();
    b.spec_digest = changed.digest();
    assert!(matches!(
        rejected(&verifier, &b),
        VerifyError::InvalidProof(_)
    ));
    tried + 2
}

/// The spec of `compiled`'s architecture with one weight changed, consistent in itself: its
/// weight commitment (private weights), or its public weights and the fingerprint of the
/// verifying key they give.
fn with_one_weight_changed(compiled: &CompiledModel) -> ModelSpec {
    let mut other = compiled.model.clone();
    let layer = other
        .weights
        .layers
        .iter_mut()
        .find(|l| !l.weights.is_empty())
        .expect("a layer with weights");
    layer.weights[0] += if layer.weights[0] < 0 { 1 } else { -1 };
    let mut changed = compiled.model.spec.clone();
    if !changed.circuit.public_weights() {
        let commitment = zkinfer::core::commit::commitment(&other.spec, &other.weights);
        changed.weights_commitment =
            zkinfer::core::digest::hex(&zkinfer::core::field::to_bytes(&commitment));
        return changed;
    }
    changed.public_weights = other.weights.layers.clone();
    let plan = CircuitPlan::from_spec(&changed);
    let params = zkinfer::ParamsStore::default()
        .load(plan.k, &zkinfer::Silent)
        .unwrap();
    let vk = zkinfer::core::keys::verifying_key(&params, &plan).unwrap();
    changed.vk_fingerprint = zkinfer::core::digest::hex(&zkinfer::core::keys::fingerprint(&vk));
    changed
}
