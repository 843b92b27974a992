//! Appending nodes and initializers to an ONNX graph with tract-onnx's own protobuf types:
//! unique names under one prefix, operators written for the graph's opset.

use tract_onnx::pb;
use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;

/// Adds nodes and constants to a graph, naming each `<prefix>/<name>`.
pub struct Builder<'a> {
    graph: &'a mut pb::GraphProto,
    prefix: &'static str,
    opset: i64,
}

/// An attribute of a node.
pub enum Attr {
    /// One integer.
    Int(i64),
    /// A list of integers.
    Ints(Vec<i64>),
}

impl<'a> Builder<'a> {
    /// A builder appending to `graph`, whose default-domain opset is `opset`.
    pub fn new(graph: &'a mut pb::GraphProto, prefix: &'static str, opset: i64) -> Self {
        Self { graph, prefix, opset }
    }

    fn name(&self, name: &str) -> String {
        format!("{}/{name}", self.prefix)
    }

    /// Adds a float initializer of shape `dims`; returns its name.
    pub fn floats(&mut self, name: &str, dims: &[i64], values: &[f32]) -> String {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializer(name, dims, DataType::Float, raw)
    }

    /// Adds an int8 initializer of shape `dims`; returns its name.
    pub fn int8s(&mut self, name: &str, dims: &[i64], values: &[i8]) -> String {
        let raw = values.iter().map(|&v| v as u8).collect();
        self.initializer(name, dims, DataType::Int8, raw)
    }

    fn int64s(&mut self, name: &str, values: &[i64]) -> String {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializer(name, &[values.len() as i64], DataType::Int64, raw)
    }

    fn initializer(&mut self, name: &str, dims: &[i64], ty: DataType, raw_data: Vec<u8>) -> String {
        let name = self.name(name);
        self.graph.initializer.push(pb::TensorProto {
            dims: dims.to_vec(),
            data_type: ty as i32,
            raw_data,
            name: name.clone(),
            ..Default::default()
        });
        name
    }

    /// Adds a node `op(inputs)` with one output named `<prefix>/<out>`; returns that name.
    pub fn node(&mut self, op: &str, out: &str, inputs: &[&str], attrs: &[(&str, Attr)]) -> String {
        let output = self.name(out);
        self.node_exact(op, output, inputs, attrs)
    }

    /// Adds a node whose output is named exactly `output` (a graph output); returns that name.
    pub fn node_exact(&mut self, op: &str, output: String, inputs: &[&str], attrs: &[(&str, Attr)]) -> String {
        let attribute = attrs
            .iter()
            .map(|(name, a)| match a {
                Attr::Int(i) => pb::AttributeProto {
                    name: name.to_string(),
                    r#type: AttributeType::Int as i32,
                    i: *i,
                    ..Default::default()
                },
                Attr::Ints(ints) => pb::AttributeProto {
                    name: name.to_string(),
                    r#type: AttributeType::Ints as i32,
                    ints: ints.clone(),
                    ..Default::default()
                },
            })
            .collect();
        self.graph.node.push(pb::NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.clone()],
            name: if output.starts_with(self.prefix) { output.clone() } else { self.name(&output) },
            op_type: op.into(),
            attribute,
            ..Default::default()
        });
        output
    }

    /// A reduction (`ReduceSumSquare`, `ReduceMax`) over axis 1, keeping it: the axes are an
    /// attribute up to opset 17 and an input from opset 18.
    pub fn reduce_axis1(&mut self, op: &str, out: &str, input: &str) -> String {
        if self.opset >= 18 {
            let axes = self.int64s(&format!("{out}_axes"), &[1]);
            self.node(op, out, &[input, &axes], &[("keepdims", Attr::Int(1))])
        } else {
            self.node(op, out, &[input], &[("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(1))])
        }
    }

    /// `x / max(‖x‖₂, tiny)` along axis 1 of a `[1, D]` tensor: teachcam's `l2_normalised`
    /// (a zero vector stays zero).
    pub fn l2_normalised(&mut self, out: &str, x: &str) -> String {
        let ss = self.reduce_axis1("ReduceSumSquare", &format!("{out}_sumsq"), x);
        let norm = self.node("Sqrt", &format!("{out}_norm"), &[&ss], &[]);
        let tiny = self.floats(&format!("{out}_tiny"), &[], &[f32::MIN_POSITIVE]);
        let den = self.node("Max", &format!("{out}_denominator"), &[&norm, &tiny], &[]);
        self.node("Div", out, &[x, &den], &[])
    }
}

/// A `[1, n]` float graph input or output description.
pub fn value_info(name: &str, dims: &[i64], ty: DataType) -> pb::ValueInfoProto {
    use pb::tensor_shape_proto::{dimension::Value, Dimension};
    let dim = dims.iter().map(|&d| Dimension { value: Some(Value::DimValue(d)), ..Default::default() }).collect();
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: ty as i32,
                shape: Some(pb::TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}
