//! Graphs as exporters write them: shape arithmetic around a reshape, a mask built from
//! `Range` and `Less`, casts, `Constant` in its scalar and list forms, a split whose second
//! part is unused. Everything computed from constants is folded away before the circuit sees
//! it; what is left evaluates like the graph.

mod common;

use common::{floats, int, ints, model_at, node, value};
use tract_onnx::pb::{AttributeProto, ModelProto, NodeProto, TensorProto};
use zkinfer_core::ir::Op;
use zkinfer_onnx::{lower_model, OnnxError};

fn model(nodes: Vec<NodeProto>, weights: Vec<TensorProto>, input: &[i64], out: &str) -> ModelProto {
    model_at(13, nodes, weights, input, out)
}

fn int_tensor(name: &str, dims: &[i64], v: Vec<i64>) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: 7,
        int64_data: v,
        ..Default::default()
    }
}

fn tensor_attr(t: TensorProto) -> AttributeProto {
    AttributeProto {
        name: "value".into(),
        t: Some(t),
        r#type: 4,
        ..Default::default()
    }
}

fn weights() -> Vec<TensorProto> {
    vec![
        TensorProto {
            name: "w".into(),
            dims: vec![8, 3],
            data_type: 1,
            float_data: (0..24).map(|i| (i as f32 - 11.0) / 16.0).collect(),
            ..Default::default()
        },
        TensorProto {
            name: "b".into(),
            dims: vec![3],
            data_type: 1,
            float_data: vec![0.25, -0.5, 0.125],
            ..Default::default()
        },
    ]
}

/// `x.view(x.size(0), -1) @ w + b`, masked to its first two outputs, as TorchScript writes it.
fn torch_style() -> ModelProto {
    let nodes = vec![
        node("Shape", &["x"], &["s"], vec![]),
        node(
            "Constant",
            &[],
            &["zero"],
            vec![tensor_attr(int_tensor("", &[], vec![0]))],
        ),
        node("Gather", &["s", "zero"], &["batch"], vec![int("axis", 0)]),
        node("Constant", &[], &["axes"], vec![ints("value_ints", &[0])]),
        node("Unsqueeze", &["batch", "axes"], &["batch1"], vec![]),
        node("Constant", &[], &["rest"], vec![ints("value_ints", &[-1])]),
        node(
            "Concat",
            &["batch1", "rest"],
            &["shape"],
            vec![int("axis", 0)],
        ),
        node("Reshape", &["x", "shape"], &["flat"], vec![]),
        node("MatMul", &["flat", "w"], &["mm"], vec![]),
        node("Add", &["mm", "b"], &["y"], vec![]),
        node("Constant", &[], &["start"], vec![int("value_int", 0)]),
        node("Constant", &[], &["limit"], vec![int("value_int", 3)]),
        node("Constant", &[], &["step"], vec![int("value_int", 1)]),
        node("Range", &["start", "limit", "step"], &["positions"], vec![]),
        node("Constant", &[], &["two"], vec![int("value_int", 2)]),
        node("Less", &["positions", "two"], &["keep"], vec![]),
        node("Constant", &[], &["zero_i"], vec![int("value_int", 0)]),
        node("Cast", &["zero_i"], &["fill"], vec![int("to", 1)]),
        node("Where", &["keep", "y", "fill"], &["out"], vec![]),
    ];
    model(nodes, weights(), &[1, 2, 4], "out")
}

fn reference(x: &[f32]) -> Vec<f32> {
    let w: Vec<f32> = (0..24).map(|i| (i as f32 - 11.0) / 16.0).collect();
    let b = [0.25, -0.5, 0.125];
    let mut y: Vec<f32> = (0..3)
        .map(|j| b[j] + (0..8).map(|i| x[i] * w[i * 3 + j]).sum::<f32>())
        .collect();
    y[2] = 0.0;
    y
}

#[test]
fn shape_arithmetic_masks_and_casts_fold_away() {
    let g = lower_model(&torch_style()).unwrap();
    let kinds: Vec<&str> = g.nodes.iter().map(|n| n.op.kind()).collect();
    assert!(
        kinds
            .iter()
            .all(|k| ["Reshape", "Dense", "Gather"].contains(k)),
        "left after folding: {kinds:?}"
    );
    let x: Vec<f32> = (0..8).map(|i| (i as f32 - 3.5) / 4.0).collect();
    let out = g.eval_f32(&x).unwrap();
    for (a, b) in out.iter().zip(reference(&x)) {
        assert!((a - b).abs() < 1e-5, "{out:?}");
    }
}

#[test]
fn a_split_keeps_the_parts_that_are_read() {
    let nodes = vec![
        node(
            "Constant",
            &[],
            &["sizes"],
            vec![ints("value_ints", &[2, 4])],
        ),
        node("Split", &["x", "sizes"], &["a", "b"], vec![int("axis", 1)]),
        node("Neg", &["b"], &["out"], vec![]),
    ];
    let g = lower_model(&model(nodes, vec![], &[1, 6], "out")).unwrap();
    assert_eq!(g.nodes.len(), 2, "{:?}", g.nodes);
    let out = g.eval_f32(&[0.5, 1.0, 1.5, 2.0, 2.5, 3.0]).unwrap();
    assert_eq!(out, vec![-1.5, -2.0, -2.5, -3.0]);
    assert!(matches!(g.nodes[0].op, Op::Gather(_)));
}

#[test]
fn a_bad_constant_computation_names_the_op_and_node() {
    let nodes = vec![
        node("Shape", &["x"], &["s"], vec![]),
        node("Constant", &[], &["far"], vec![int("value_int", 5)]),
        node("Gather", &["s", "far"], &["d"], vec![int("axis", 0)]),
        node("Relu", &["x"], &["out"], vec![]),
    ];
    match lower_model(&model(nodes, vec![], &[1, 6], "out")) {
        Err(OnnxError::Unsupported {
            op_type,
            node,
            detail,
        }) => {
            assert_eq!((op_type.as_str(), node.as_str()), ("Gather", "/Gather_d"));
            assert!(detail.contains("index 5 out of range"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_attribute_a_fold_does_not_read_is_refused() {
    let nodes = vec![
        node("Constant", &[], &["c"], vec![ints("value_ints", &[1, 2])]),
        node(
            "Concat",
            &["c", "c"],
            &["cc"],
            vec![int("axis", 0), int("new_axis", 1)],
        ),
        node("Relu", &["x"], &["out"], vec![]),
    ];
    match lower_model(&model(nodes, vec![], &[1, 6], "out")) {
        Err(OnnxError::Unsupported {
            op_type, detail, ..
        }) => {
            assert_eq!(op_type, "Concat");
            assert!(detail.contains("new_axis"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

/// Tokens and positions, two outputs: `y = relu(a + b)`, `z = a · b`.
fn two_in_two_out() -> ModelProto {
    let mut m = model(
        vec![
            node("Add", &["a", "b"], &["s"], vec![]),
            node("Relu", &["s"], &["y"], vec![]),
            node("Mul", &["a", "b"], &["z"], vec![]),
        ],
        vec![],
        &[1, 3],
        "y",
    );
    let g = m.graph.as_mut().unwrap();
    g.input = vec![value("a", &[1, 3]), value("b", &[1, 3])];
    g.output = vec![value("y", &[1, 3]), value("z", &[1, 3])];
    m
}

#[test]
fn several_inputs_are_one_concatenated_input_and_outputs_concatenate() {
    let g = lower_model(&two_in_two_out()).unwrap();
    assert_eq!(g.input_shape, vec![6]);
    let a = [1.0, -2.0, 0.5];
    let b = [0.25, 1.0, -1.0];
    let x: Vec<f32> = a.iter().chain(&b).copied().collect();
    let out = g.eval_f32(&x).unwrap();
    let y = a.iter().zip(&b).map(|(p, q)| (p + q).max(0.0));
    let z = a.iter().zip(&b).map(|(p, q)| p * q);
    assert_eq!(out, y.chain(z).collect::<Vec<f32>>());
}

#[test]
fn a_one_dimensional_convolution_reads_a_line() {
    let w = TensorProto {
        name: "w".into(),
        dims: vec![2, 1, 3],
        data_type: 1,
        float_data: vec![1.0, 2.0, 3.0, 0.5, 0.0, -0.5],
        ..Default::default()
    };
    let nodes = vec![node(
        "Conv",
        &["x", "w"],
        &["out"],
        vec![ints("pads", &[1, 0])],
    )];
    let g = lower_model(&model(nodes, vec![w], &[1, 1, 5], "out")).unwrap();
    let x = [1.0, 2.0, 3.0, 4.0, 5.0];
    let out = g.eval_f32(&x).unwrap();
    // Channel 0: [0,1,2]·[1,2,3] = 8, [1,2,3]·… = 14, 20, 26; channel 1: 0.5·x[i-1] − 0.5·x[i+1].
    assert_eq!(out, vec![8.0, 14.0, 20.0, 26.0, -1.0, -1.0, -1.0, -1.0]);
}

/// Cases that once gave a wrong answer or panicked.
mod review {
    use super::*;

    #[test]
    fn a_renamed_value_read_twice_is_not_folded_into_a_bias() {
        // y = x·w, z = Identity(y), out = (z + c) + y: c must not land in the layer's bias.
        let nodes = vec![
            node("MatMul", &["x", "w"], &["y"], vec![]),
            node("Identity", &["y"], &["z"], vec![]),
            node("Add", &["z", "c"], &["zc"], vec![]),
            node("Add", &["zc", "y"], &["out"], vec![]),
        ];
        let weights = vec![
            floats("w", &[2, 2], vec![1.0, 0.0, 0.0, 1.0]),
            floats("c", &[2], vec![10.0, 20.0]),
        ];
        let g = lower_model(&model(nodes, weights, &[1, 2], "out")).unwrap();
        assert_eq!(g.eval_f32(&[1.0, 2.0]).unwrap(), vec![12.0, 24.0]);
    }

    #[test]
    fn negative_token_ids_read_rows_from_the_end() {
        let table = floats("table", &[3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let nodes = vec![node("Gather", &["table", "x"], &["out"], vec![])];
        let g = lower_model(&model(nodes, vec![table], &[1, 2], "out")).unwrap();
        assert_eq!(g.eval_f32(&[-1.0, 1.0]).unwrap(), vec![5.0, 6.0, 3.0, 4.0]);
    }

    #[test]
    fn casts_of_constants_narrow_like_onnx() {
        let nodes = vec![
            node(
                "Constant",
                &[],
                &["c"],
                vec![ints("value_ints", &[-1, 300])],
            ),
            node("Cast", &["c"], &["u8"], vec![int("to", 2)]),
            node("Cast", &["u8"], &["f"], vec![int("to", 1)]),
            node("Add", &["x", "f"], &["out"], vec![]),
        ];
        let g = lower_model(&model(nodes, vec![], &[1, 2], "out")).unwrap();
        assert_eq!(g.eval_f32(&[0.0, 0.0]).unwrap(), vec![255.0, 44.0]);
    }

    #[test]
    fn extreme_slice_steps_and_block_sizes_are_errors_not_panics() {
        let nodes = vec![
            node("Constant", &[], &["s"], vec![ints("value_ints", &[1])]),
            node("Constant", &[], &["e"], vec![ints("value_ints", &[6])]),
            node("Constant", &[], &["a"], vec![ints("value_ints", &[1])]),
            node(
                "Constant",
                &[],
                &["st"],
                vec![ints("value_ints", &[i64::MAX])],
            ),
            node("Slice", &["x", "s", "e", "a", "st"], &["out"], vec![]),
        ];
        let g = lower_model(&model(nodes, vec![], &[1, 6], "out")).unwrap();
        assert_eq!(
            g.eval_f32(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap(),
            vec![1.0]
        );
        let nodes = vec![node(
            "DepthToSpace",
            &["x"],
            &["out"],
            vec![int("blocksize", 1 << 32)],
        )];
        assert!(lower_model(&model(nodes, vec![], &[1, 4, 1, 1], "out")).is_err());
    }

    #[test]
    fn a_matmul_by_a_batch_of_matrices_broadcasts_the_activation() {
        // x [1, 2] times W [3, 2, 2]: one product per matrix, out [3, 1, 2].
        let w: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let nodes = vec![node("MatMul", &["x", "w"], &["out"], vec![])];
        let g = lower_model(&model(
            nodes,
            vec![floats("w", &[3, 2, 2], w.clone())],
            &[1, 2],
            "out",
        ))
        .unwrap();
        let x = [1.0, -2.0];
        let expect: Vec<f32> = (0..3)
            .flat_map(|b| (0..2).map(move |c| b * 4 + c))
            .map(|i| x[0] * w[i] + x[1] * w[i + 2])
            .collect();
        assert_eq!(g.eval_f32(&x).unwrap(), expect);
        // x [2, 1, 2] against W [1, 2, 2]: both samples read the one matrix.
        let nodes = vec![node("MatMul", &["x", "w"], &["out"], vec![])];
        let one = floats("w", &[1, 2, 2], w[..4].to_vec());
        let g = lower_model(&model(nodes, vec![one], &[2, 1, 2], "out")).unwrap();
        assert_eq!(
            g.eval_f32(&[1.0, 0.0, 0.0, 1.0]).unwrap(),
            vec![0.0, 1.0, 2.0, 3.0]
        );
    }

    #[test]
    fn an_embedding_of_more_than_63_rows_calibrates() {
        // A 100-token vocabulary: `id − key` for negative keys would reach ±199.
        let rows = 100;
        let table = floats(
            "table",
            &[rows, 2],
            (0..2 * rows).map(|i| i as f32 / 256.0).collect(),
        );
        let nodes = vec![node("Gather", &["table", "x"], &["out"], vec![])];
        let g = lower_model(&model(nodes, vec![table], &[1, 3], "out")).unwrap();
        let ids = [0.0, 57.0, 99.0];
        assert_eq!(
            g.eval_f32(&ids).unwrap(),
            vec![
                0.0,
                1.0 / 256.0,
                114.0 / 256.0,
                115.0 / 256.0,
                198.0 / 256.0,
                199.0 / 256.0
            ]
        );
        let layers = zkinfer_core::ir::lower(&g).unwrap();
        let samples = vec![ids.to_vec(), vec![99.0, 98.0, 1.0]];
        zkinfer_core::quant::calibrate(
            "vocab",
            &layers,
            &g.input_shape,
            &g.output_shape().unwrap(),
            &samples,
        )
        .unwrap();
    }

    #[test]
    fn a_label_picked_by_argmax_is_exact_after_quantization() {
        // One-hot selectors hold 1 exactly: a 0/1 table at scale 2^7 stored 1 as 127/128, and
        // the label 9 came out as 8.875.
        let classes = floats("classes", &[4], vec![2.0, 9.0, 5.0, 7.0]);
        let nodes = vec![
            node(
                "ArgMax",
                &["x"],
                &["i"],
                vec![int("axis", 1), int("keepdims", 0)],
            ),
            node("Gather", &["classes", "i"], &["out"], vec![]),
        ];
        let g = lower_model(&model(nodes, vec![classes], &[1, 4], "out")).unwrap();
        let samples: Vec<Vec<f32>> = (0..4)
            .map(|k| {
                (0..4)
                    .map(|j| if j == k { 0.9 } else { 0.1 * j as f32 })
                    .collect()
            })
            .collect();
        let layers = zkinfer_core::ir::lower(&g).unwrap();
        let shape = g.output_shape().unwrap();
        let q = zkinfer_core::quant::calibrate("labels", &layers, &g.input_shape, &shape, &samples)
            .unwrap();
        for (x, want) in samples.iter().zip([2.0, 9.0, 5.0, 7.0]) {
            let input = zkinfer_core::quant::quantize_input(&q.spec.input, x).unwrap();
            let trace = zkinfer_core::eval::evaluate(&q.spec, &q.weights, &input).unwrap();
            let out = zkinfer_core::quant::dequantize(trace.output(), q.spec.output.scale);
            assert_eq!(out, vec![want], "{x:?}");
        }
    }
}
