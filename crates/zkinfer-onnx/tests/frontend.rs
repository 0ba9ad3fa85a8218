//! Frontend errors: unsupported ops and attributes are named, garbage is an error.

mod common;

use common::{floats, value};
use tract_onnx::pb::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto};
use zkinfer_core::ir::Op;
use zkinfer_onnx::{load_bytes, lower_model, OnnxError};

fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    output: &str,
    attrs: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute: attrs,
        ..Default::default()
    }
}

fn model(nodes: Vec<NodeProto>, out: &str) -> ModelProto {
    ModelProto {
        graph: Some(GraphProto {
            node: nodes,
            initializer: vec![
                floats("w", &[3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
                floats("b", &[3], vec![0.5, 0.0, -0.5]),
            ],
            input: vec![value("x", &[1, 2])],
            output: vec![value(out, &[1, 3])],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn int_attr(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        i,
        ..Default::default()
    }
}

#[test]
fn gemm_relu_lowers_with_trans_b() {
    let m = model(
        vec![
            node(
                "Gemm",
                "fc",
                &["x", "w", "b"],
                "y",
                vec![int_attr("transB", 1)],
            ),
            node("Relu", "act", &["y"], "z", vec![]),
        ],
        "z",
    );
    let g = lower_model(&m).unwrap();
    assert_eq!(g.nodes.len(), 2);
    match &g.nodes[0].op {
        Op::Dense(d) => {
            assert_eq!((d.inputs, d.outputs), (2, 3));
            assert_eq!(d.weights, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
            assert_eq!(d.bias, vec![0.5, 0.0, -0.5]);
        }
        other => panic!("expected Dense, got {other:?}"),
    }
    assert_eq!(g.eval_f32(&[1.0, -1.0]).unwrap(), vec![0.0, 0.0, 0.0]);
    assert_eq!(g.eval_f32(&[1.0, 1.0]).unwrap(), vec![3.5, 7.0, 10.5]);
}

#[test]
fn unsupported_op_names_op_and_node() {
    let m = model(
        vec![
            node(
                "Gemm",
                "fc",
                &["x", "w", "b"],
                "y",
                vec![int_attr("transB", 1)],
            ),
            node("Hardmax", "wave", &["y"], "z", vec![]),
        ],
        "z",
    );
    match lower_model(&m) {
        Err(e @ OnnxError::UnsupportedOp { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("Hardmax") && msg.contains("wave"), "{msg}");
        }
        other => panic!("expected UnsupportedOp, got {other:?}"),
    }
}

#[test]
fn unsupported_attribute_names_op_node_and_attribute() {
    let m = model(
        vec![node(
            "Gemm",
            "fc",
            &["x", "w", "b"],
            "y",
            vec![int_attr("transB", 1), int_attr("foo", 1)],
        )],
        "y",
    );
    let msg = lower_model(&m).unwrap_err().to_string();
    assert!(
        msg.contains("Gemm") && msg.contains("fc") && msg.contains("foo"),
        "{msg}"
    );
}

#[test]
fn shape_mismatch_is_reported() {
    // Without transB, B = [3, 2] cannot multiply a [1, 2] input.
    let m = model(vec![node("Gemm", "fc", &["x", "w", "b"], "y", vec![])], "y");
    let msg = lower_model(&m).unwrap_err().to_string();
    assert!(msg.contains("fc") && msg.contains("[3, 2]"), "{msg}");
}

#[test]
fn garbage_bytes_are_a_parse_error() {
    assert!(matches!(
        load_bytes(b"definitely not onnx \xff\xff\xff"),
        Err(OnnxError::Parse(_)) | Err(OnnxError::Model(_))
    ));
    assert!(load_bytes(&[]).is_err());
}

fn ints_attr(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn image_model(
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    out: &str,
    out_dims: &[i64],
) -> ModelProto {
    ModelProto {
        graph: Some(GraphProto {
            node: nodes,
            initializer: inits,
            input: vec![value("img", &[1, 2, 6, 6])],
            output: vec![value(out, out_dims)],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn conv_weights() -> Vec<TensorProto> {
    vec![
        floats(
            "cw",
            &[3, 2, 3, 3],
            (0..54).map(|i| i as f32 / 54.0).collect(),
        ),
        floats("cb", &[3], vec![0.1, 0.2, 0.3]),
    ]
}

#[test]
fn conv_pool_batchnorm_lower_and_evaluate_like_the_reference() {
    let mut inits = conv_weights();
    inits.extend([
        floats("s", &[3], vec![2.0, 1.0, 0.5]),
        floats("b", &[3], vec![0.0, 1.0, -1.0]),
        floats("m", &[3], vec![0.5, 0.0, 0.0]),
        floats("v", &[3], vec![1.0, 4.0, 0.25]),
    ]);
    let eps = AttributeProto {
        name: "epsilon".into(),
        f: 0.0,
        ..Default::default()
    };
    let m = image_model(
        vec![
            node(
                "Conv",
                "conv",
                &["img", "cw", "cb"],
                "c",
                vec![ints_attr("pads", &[1, 1, 1, 1])],
            ),
            node(
                "BatchNormalization",
                "bn",
                &["c", "s", "b", "m", "v"],
                "n",
                vec![eps],
            ),
            node("Relu", "relu", &["n"], "r", vec![]),
            node(
                "MaxPool",
                "max",
                &["r"],
                "p",
                vec![
                    ints_attr("kernel_shape", &[2, 2]),
                    ints_attr("strides", &[2, 2]),
                ],
            ),
            node(
                "AveragePool",
                "avg",
                &["p"],
                "a",
                vec![ints_attr("kernel_shape", &[2, 2])],
            ),
            node("GlobalAveragePool", "gap", &["a"], "g", vec![]),
        ],
        inits,
        "g",
        &[1, 3, 1, 1],
    );
    let g = lower_model(&m).unwrap();
    let kinds: Vec<&str> = g.nodes.iter().map(|n| n.op.kind()).collect();
    assert_eq!(
        kinds,
        ["Conv2d", "Relu", "MaxPool", "AveragePool", "AveragePool"]
    );
    assert_eq!(g.output_shape().unwrap(), vec![1, 3, 1, 1]);
    let x: Vec<f32> = (0..72)
        .map(|i| ((i * 7) % 11) as f32 / 11.0 - 0.3)
        .collect();
    let out = g.eval_f32(&x).unwrap();
    // Reference by hand: conv (pad 1), batch norm, relu, 2x2/2 max, 2x2/1 average, global mean.
    let w: Vec<f32> = (0..54).map(|i| i as f32 / 54.0).collect();
    let (sc, bb, mean, var) = (
        [2.0f32, 1.0, 0.5],
        [0.0f32, 1.0, -1.0],
        [0.5f32, 0.0, 0.0],
        [1.0f32, 4.0, 0.25],
    );
    for co in 0..3 {
        let act = |y: i64, xx: i64| -> f32 {
            let mut acc = [0.1, 0.2, 0.3][co];
            for ci in 0..2 {
                for ky in 0..3 {
                    for kx in 0..3 {
                        let (iy, ix) = (y + ky - 1, xx + kx - 1);
                        if (0..6).contains(&iy) && (0..6).contains(&ix) {
                            let wi = ((co * 2 + ci) * 3 + ky as usize) * 3 + kx as usize;
                            acc += w[wi] * x[ci * 36 + (iy * 6 + ix) as usize];
                        }
                    }
                }
            }
            (sc[co] * (acc - mean[co]) / var[co].sqrt() + bb[co]).max(0.0)
        };
        let pooled = |py: i64, px: i64| -> f32 {
            [(0, 0), (0, 1), (1, 0), (1, 1)]
                .iter()
                .map(|(dy, dx)| act(2 * py + dy, 2 * px + dx))
                .fold(f32::MIN, f32::max)
        };
        let avg = |ay: i64, ax: i64| {
            (pooled(ay, ax) + pooled(ay, ax + 1) + pooled(ay + 1, ax) + pooled(ay + 1, ax + 1))
                / 4.0
        };
        let expected = (avg(0, 0) + avg(0, 1) + avg(1, 0) + avg(1, 1)) / 4.0;
        assert!(
            (out[co] - expected).abs() < 1e-4,
            "channel {co}: {} vs {expected}",
            out[co]
        );
    }
}

#[test]
fn unsupported_conv_attributes_name_op_node_and_attribute() {
    let m = image_model(
        vec![node(
            "Conv",
            "grouped",
            &["img", "cw", "cb"],
            "c",
            vec![int_attr("group", 3), ints_attr("dilations", &[2, 2])],
        )],
        conv_weights(),
        "c",
        &[1, 3, 2, 2],
    );
    let msg = lower_model(&m).unwrap_err().to_string();
    assert!(
        msg.contains("Conv")
            && msg.contains("grouped")
            && msg.contains("group 3 does not divide 2 input channels"),
        "{msg}"
    );
    let m = image_model(
        vec![node(
            "AveragePool",
            "avg3",
            &["img"],
            "a",
            vec![
                ints_attr("kernel_shape", &[3, 3]),
                int_attr("ceil_mode", 1),
                int_attr("count_include_pad", 1),
            ],
        )],
        vec![],
        "a",
        &[1, 2, 4, 4],
    );
    let msg = lower_model(&m).unwrap_err().to_string();
    assert!(
        msg.contains("AveragePool")
            && msg.contains("avg3")
            && msg.contains("ceil_mode 1 with count_include_pad 1"),
        "{msg}"
    );
    let m = image_model(
        vec![node(
            "BatchNormalization",
            "bn",
            &["img", "s", "b", "m", "v"],
            "n",
            vec![],
        )],
        vec![
            floats("s", &[2], vec![1.0; 2]),
            floats("b", &[2], vec![0.0; 2]),
            floats("m", &[2], vec![0.0; 2]),
            floats("v", &[2], vec![1.0; 2]),
        ],
        "n",
        &[1, 2, 6, 6],
    );
    // A BatchNormalization with no layer to fold into is a depthwise 1 x 1 convolution.
    let g = lower_model(&m).unwrap();
    assert!(g.nodes.iter().any(|n| matches!(
        &n.op,
        zkinfer_core::ir::Op::Conv2d(c) if c.groups == 2 && c.window.kernel == [1, 1]
    )));
    let mut m = m;
    if let Some(graph) = m.graph.as_mut() {
        graph.node[0].attribute.push(int_attr("training_mode", 1));
    }
    let msg = lower_model(&m).unwrap_err().to_string();
    assert!(
        msg.contains("BatchNormalization") && msg.contains("bn") && msg.contains("training_mode"),
        "{msg}"
    );
}

#[test]
fn table_activations_lower_to_functions() {
    use zkinfer_core::spec::Function;
    let alpha = AttributeProto {
        name: "alpha".into(),
        f: 0.2,
        ..Default::default()
    };
    for (op, attrs, expect) in [
        ("Sigmoid", vec![], "Sigmoid"),
        ("Tanh", vec![], "Tanh"),
        ("Exp", vec![], "Exp"),
        ("Erf", vec![], "Erf"),
        ("Gelu", vec![], "Gelu"),
        ("LeakyRelu", vec![alpha.clone()], "LeakyRelu"),
        ("Clip", vec![], "Clip"),
    ] {
        let m = model(
            vec![
                node(
                    "Gemm",
                    "fc",
                    &["x", "w", "b"],
                    "y",
                    vec![int_attr("transB", 1)],
                ),
                node(op, "act", &["y"], "z", attrs),
            ],
            "z",
        );
        let g = lower_model(&m).unwrap();
        match &g.nodes[1].op {
            Op::Activation(f) => assert!(format!("{f:?}").starts_with(expect), "{op}: {f:?}"),
            other => panic!("{op}: {other:?}"),
        }
        let out = g.eval_f32(&[1.0, -1.0]).unwrap();
        assert_eq!(out.len(), 3, "{op}");
        if op == "LeakyRelu" {
            // fc([1, -1]) = [-0.5, -1, -1.5]
            let expected: Vec<f32> = vec![-0.1, -0.2, -0.3];
            for (a, b) in out.iter().zip(&expected) {
                assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
            assert!(matches!(
                g.nodes[1].op,
                Op::Activation(Function::LeakyRelu { .. })
            ));
        }
    }
}
