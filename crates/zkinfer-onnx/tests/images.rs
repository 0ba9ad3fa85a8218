//! Images in batches and resampling: a batch of images is convolved and pooled sample by
//! sample, 1-D signals too; nearest-neighbour resizing is wiring, interpolation a dense layer.

mod common;

use common::{floats, ints, model_at, node, string};
use tract_onnx::pb::{NodeProto, TensorProto};
use zkinfer_onnx::lower_model;

fn eval(nodes: &[NodeProto], weights: &[TensorProto], input: &[i64], x: &[f32]) -> Vec<f32> {
    let m = model_at(13, nodes.to_vec(), weights.to_vec(), input, "out");
    lower_model(&m).unwrap().eval_f32(x).unwrap()
}

fn conv_pool() -> (Vec<NodeProto>, Vec<TensorProto>) {
    let nodes = vec![
        node(
            "Conv",
            &["x", "w", "b"],
            &["c"],
            vec![ints("pads", &[1, 1, 1, 1])],
        ),
        node(
            "MaxPool",
            &["c"],
            &["p"],
            vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])],
        ),
        node("GlobalMaxPool", &["p"], &["g"], vec![]),
        node("GlobalAveragePool", &["p"], &["a"], vec![]),
        node(
            "Concat",
            &["g", "a"],
            &["out"],
            vec![common::int("axis", 1)],
        ),
    ];
    let weights = vec![
        floats(
            "w",
            &[3, 2, 3, 3],
            (0..54).map(|i| (i as f32 - 27.0) / 40.0).collect(),
        ),
        floats("b", &[3], vec![0.1, -0.2, 0.3]),
    ];
    (nodes, weights)
}

#[test]
fn a_batch_of_images_is_convolved_and_pooled_sample_by_sample() {
    let (nodes, weights) = conv_pool();
    let sample = |s: usize| -> Vec<f32> {
        (0..72)
            .map(|i| ((i * (s + 3)) % 17) as f32 / 8.0 - 1.0)
            .collect()
    };
    let batch: Vec<f32> = [sample(0), sample(1)].concat();
    let together = eval(&nodes, &weights, &[2, 2, 6, 6], &batch);
    // Each sample alone gives [max × 3, mean × 3]; batched, the outputs are [2, 6].
    let alone: Vec<f32> = (0..2)
        .flat_map(|s| eval(&nodes, &weights, &[1, 2, 6, 6], &sample(s)))
        .collect();
    assert_eq!(together.len(), 12);
    for (a, b) in together.iter().zip(&alone) {
        assert!((a - b).abs() < 1e-5, "{together:?} vs {alone:?}");
    }
}

#[test]
fn a_batch_of_signals_is_convolved_sample_by_sample() {
    let nodes = vec![
        node("Conv", &["x", "w"], &["c"], vec![ints("strides", &[2])]),
        node(
            "AveragePool",
            &["c"],
            &["out"],
            vec![ints("kernel_shape", &[2])],
        ),
    ];
    let weights = vec![floats("w", &[2, 1, 3], vec![1.0, 2.0, 3.0, 0.5, 0.0, -0.5])];
    let signal = |s: usize| -> Vec<f32> { (0..9).map(|i| (i + 4 * s) as f32 / 4.0).collect() };
    let together = eval(
        &nodes,
        &weights,
        &[2, 1, 9],
        &[signal(0), signal(1)].concat(),
    );
    let alone: Vec<f32> = (0..2)
        .flat_map(|s| eval(&nodes, &weights, &[1, 1, 9], &signal(s)))
        .collect();
    assert_eq!(together, alone);
}

#[test]
fn nearest_resizing_is_wiring_and_linear_resizing_a_dense_layer() {
    let scales = floats("scales", &[4], vec![1.0, 1.0, 2.0, 2.0]);
    let resize = |mode: &str| {
        let nodes = vec![node(
            "Resize",
            &["x", "", "scales"],
            &["out"],
            vec![string("mode", mode)],
        )];
        let m = model_at(13, nodes, vec![scales.clone()], &[1, 1, 2, 2], "out");
        lower_model(&m).unwrap()
    };
    let x = [1.0, 2.0, 3.0, 4.0];
    let nearest = resize("nearest");
    assert!(nearest.nodes.iter().all(|n| n.op.kind() != "Dense"));
    let out = nearest.eval_f32(&x).unwrap();
    assert_eq!(&out[..8], &[1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
    let linear = resize("linear");
    assert!(linear.nodes.iter().any(|n| n.op.kind() == "Dense"));
    let out = linear.eval_f32(&x).unwrap();
    // Half-pixel: row 0 reads input row 0 (edge), columns mix as 1, 1.25, 1.75, 2.
    assert_eq!(&out[..4], &[1.0, 1.25, 1.75, 2.0]);
}

#[test]
fn a_transposed_convolution_scatters_each_input_through_the_kernel() {
    // One channel, stride 2, kernel 2 × 2 of ones: every input fills its own 2 × 2 block.
    let nodes = vec![node(
        "ConvTranspose",
        &["x", "w"],
        &["out"],
        vec![ints("strides", &[2, 2])],
    )];
    let weights = vec![floats("w", &[1, 1, 2, 2], vec![1.0, 2.0, 3.0, 4.0])];
    let out = eval(&nodes, &weights, &[1, 1, 2, 2], &[1.0, 10.0, 100.0, 1000.0]);
    let expect: Vec<f32> = [
        [1.0, 2.0, 10.0, 20.0],
        [3.0, 4.0, 30.0, 40.0],
        [100.0, 200.0, 1000.0, 2000.0],
        [300.0, 400.0, 3000.0, 4000.0],
    ]
    .concat();
    assert_eq!(out, expect);
}

#[test]
fn hostile_sizes_are_errors_not_panics() {
    let w = vec![floats("w", &[1, 1, 2, 2], vec![1.0; 4])];
    for attrs in [
        vec![ints("strides", &[1 << 40, 1])],
        vec![ints("pads", &[1 << 62, 0, 1 << 62, 0])],
        vec![ints("output_shape", &[i64::MIN, 4])],
        vec![ints("output_shape", &[i64::MAX, 4])],
    ] {
        let nodes = vec![node("ConvTranspose", &["x", "w"], &["out"], attrs)];
        let m = model_at(13, nodes, w.clone(), &[1, 1, 2, 2], "out");
        assert!(lower_model(&m).is_err());
    }
    for scales in [
        vec![1.0, 1.0, 1e9, 1.0],
        vec![1.0, 1.0, f32::NAN, 1.0],
        vec![1.0, 1.0, 4096.0, 4096.0],
    ] {
        let nodes = vec![node(
            "Resize",
            &["x", "", "scales"],
            &["out"],
            vec![string("mode", "linear")],
        )];
        let m = model_at(
            13,
            nodes,
            vec![floats("scales", &[4], scales)],
            &[1, 1, 2, 2],
            "out",
        );
        assert!(lower_model(&m).is_err());
    }
}
