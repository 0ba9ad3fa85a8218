//! Key generation, proving and verification of one-layer models, one per layer kind, at the
//! sizes of LeNet-5's layers (`cargo bench --bench layers -- layer/conv` for one). Each circuit
//! also holds the input, the weight commitment and the lookup tables, so the differences
//! between kinds are what the layer adds.

// criterion_group! expands to an undocumented function.
#![allow(missing_docs)]

mod support;

use criterion::{criterion_group, criterion_main, Criterion};
use zkinfer::core::geometry::Window;
use zkinfer::core::ir::{Conv2d, Dense, FloatLayer, LayerOp, MatMul, Pool, PoolKind};
use zkinfer::core::model::QuantModel;
use zkinfer::core::quant::{calibrate, quantize_input};
use zkinfer::core::testing::{samples, XorShift};

fn layer(name: &str, op: LayerOp, relu: bool, sources: Vec<usize>) -> FloatLayer {
    FloatLayer {
        name: name.into(),
        op,
        relu,
        function: None,
        sources,
    }
}

fn random(rng: &mut XorShift, n: usize, fan_in: usize) -> Vec<f32> {
    let s = 1.0 / (fan_in as f32).sqrt();
    (0..n).map(|_| rng.uniform(-s, s)).collect()
}

fn window(input: [usize; 3], kernel: usize, stride: usize) -> Window {
    Window {
        input,
        kernel: [kernel; 2],
        stride: [stride; 2],
        pads: [0; 4],
        dilation: [1, 1],
    }
}

/// The one-layer models: (name, layer, input shape, output shape).
fn kinds() -> Vec<(&'static str, FloatLayer, Vec<usize>, Vec<usize>)> {
    let mut rng = XorShift::new(11);
    let pool = |kind| Pool {
        kind,
        window: window([6, 28, 28], 2, 2),
        exclude_pad: false,
    };
    vec![
        (
            "dense_400x120",
            layer(
                "fc",
                LayerOp::Dense(Dense {
                    inputs: 400,
                    outputs: 120,
                    weights: random(&mut rng, 400 * 120, 400),
                    bias: random(&mut rng, 120, 400),
                    batch: 1,
                }),
                true,
                vec![0],
            ),
            vec![1, 400],
            vec![1, 120],
        ),
        (
            "conv_6x14x14_16x5x5",
            layer(
                "conv",
                LayerOp::Conv2d(Conv2d {
                    window: window([6, 14, 14], 5, 1),
                    out_channels: 16,
                    weights: random(&mut rng, 16 * 150, 150),
                    bias: random(&mut rng, 16, 150),
                    groups: 1,
                }),
                true,
                vec![0],
            ),
            vec![1, 6, 14, 14],
            vec![1, 16, 10, 10],
        ),
        (
            "maxpool_6x28x28",
            layer(
                "maxpool",
                LayerOp::Pool(pool(PoolKind::Max)),
                false,
                vec![0],
            ),
            vec![1, 6, 28, 28],
            vec![1, 6, 14, 14],
        ),
        (
            "avgpool_6x28x28",
            layer(
                "avgpool",
                LayerOp::Pool(pool(PoolKind::Average)),
                false,
                vec![0],
            ),
            vec![1, 6, 28, 28],
            vec![1, 6, 14, 14],
        ),
        (
            "add_1024",
            layer("add", LayerOp::Add { subtract: false }, false, vec![0, 0]),
            vec![1, 1024],
            vec![1, 1024],
        ),
        (
            "mul_1024",
            layer("mul", LayerOp::Mul, false, vec![0, 0]),
            vec![1, 1024],
            vec![1, 1024],
        ),
        (
            "matmul_16x16x16",
            layer(
                "matmul",
                LayerOp::MatMul(MatMul {
                    batch: 1,
                    m: 16,
                    k: 16,
                    n: 16,
                }),
                false,
                vec![0, 0],
            ),
            vec![1, 16, 16],
            vec![1, 16, 16],
        ),
    ]
}

fn layers(c: &mut Criterion) {
    for (name, layer, input_shape, output_shape) in kinds() {
        let len: usize = input_shape.iter().product();
        let data = samples(5, 8, len);
        let q = calibrate(name, &[layer], &input_shape, &output_shape, &data).unwrap();
        let model = support::with_fingerprint(QuantModel::from_quantized(q).unwrap());
        let input = quantize_input(&model.spec.input, &data[0]).unwrap();
        support::bench_model(c, &format!("layer/{name}"), model, &input);
    }
}

criterion_group!(benches, layers);
criterion_main!(benches);
