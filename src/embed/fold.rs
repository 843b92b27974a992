//! Folds what tract leaves computed at run time although it is constant.
//!
//! tract does not fold a constant computation whose result is larger than its inputs (a memory
//! budget). The shipped model's classifier weights are stored as int8 and dequantised by
//! `DequantizeLinear`, so every inference cast 1.28 M weights to f32, scaled and repacked them:
//! measured with tract's profiler, ~3 ms of a 45 ms inference on x86 (Cast 0.8, Mul 0.2, packing
//! 2.0). Folded once at load, the weights take 3.8 MB more memory and the packing is done once.

use tract_core::internal::*;
use tract_core::ops::konst::Const;
use tract_core::ops::source::TypedSource;

/// Replaces every node whose inputs are all constant by its value, when that value is at most
/// `max_bytes`; returns how many nodes were folded.
pub fn fold_constants(model: &mut TypedModel, max_bytes: usize) -> TractResult<usize> {
    let mut folded = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        if node.op_is::<Const>() || node.op_is::<TypedSource>() || node.outputs.len() != 1 {
            continue;
        }
        let facts: Vec<TypedFact> = model.node_input_facts(id)?.into_iter().cloned().collect();
        if facts.is_empty() || facts.iter().any(|f| f.konst.is_none()) {
            continue;
        }
        let out = &node.outputs[0].fact;
        let bytes = out.shape.as_concrete().map(|s| s.iter().product::<usize>() * out.datum_type.size_of());
        if bytes.is_none_or(|b| b > max_bytes) {
            continue;
        }
        // The value: already known to the fact (tract computed it but keeps the node), or
        // evaluated now.
        let value = match node.outputs[0].fact.konst.clone() {
            Some(v) => v,
            None => {
                let inputs: TVec<TValue> =
                    facts.iter().filter_map(|f| f.konst.clone()).map(|k| k.into_tvalue()).collect();
                let Ok(Some(mut values)) = node.op.eval_out_of_plan(inputs) else { continue };
                values.remove(0).into_arc_tensor()
            }
        };
        let mut patch = TypedModelPatch::default();
        let wire = patch.add_const(&node.name, value)?;
        patch.shunt_outside(model, OutletId::new(id, 0), wire)?;
        patch.apply(model)?;
        folded += 1;
    }
    if folded > 0 {
        model.compact()?;
    }
    Ok(folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dequantised_weight_is_folded_and_gives_the_same_result() {
        // Large enough (8 MB as f32) for tract to leave the dequantisation to run time.
        let (rows, cols) = (1024, 2048);
        let q: Vec<i8> = (0..rows * cols).map(|i| (i % 255) as i8).collect();
        let mut m = TypedModel::default();
        let x = m.add_source("x", f32::fact([rows, cols])).unwrap();
        let q = m.add_const("q", Tensor::from_shape(&[rows, cols], &q).unwrap()).unwrap();
        let cast = m.wire_node("cast", tract_core::ops::cast::cast(f32::datum_type()), &[q]).unwrap()[0];
        let scale = m.add_const("scale", tensor2(&[[0.5f32]])).unwrap();
        let w = m.wire_node("dq", tract_core::ops::math::mul(), &[cast, scale]).unwrap()[0];
        let y = m.wire_node("y", tract_core::ops::math::add(), &[x, w]).unwrap()[0];
        m.select_output_outlets(&[y]).unwrap();
        let casts = |m: &TypedModel| m.nodes().iter().filter(|n| n.op().name() == "Cast").count();
        assert_eq!(casts(&m), 1, "tract left the cast to run time");
        let input = Tensor::from_shape(&[rows, cols], &vec![1f32; rows * cols]).unwrap();
        let run = |m: TypedModel| m.into_runnable().unwrap().run(tvec!(input.clone().into())).unwrap()[0].clone();
        let before = run(m.clone());
        assert_eq!(fold_constants(&mut m, 64 << 20).unwrap(), 2, "the cast and the scaling");
        assert_eq!(casts(&m), 0);
        assert_eq!(run(m.clone()), before);
        assert_eq!(fold_constants(&mut m, 64 << 20).unwrap(), 0, "nothing left to fold");
    }

    #[test]
    fn a_result_over_the_budget_is_left_alone() {
        let mut m = TypedModel::default();
        let q = m.add_const("q", Tensor::from_shape(&[1 << 21], &vec![1i8; 1 << 21]).unwrap()).unwrap();
        let cast = m.wire_node("cast", tract_core::ops::cast::cast(f32::datum_type()), &[q]).unwrap()[0];
        m.select_output_outlets(&[cast]).unwrap();
        assert_eq!(fold_constants(&mut m, 1 << 20).unwrap(), 0, "8 MB > 1 MB");
    }
}
