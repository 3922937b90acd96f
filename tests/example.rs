//! The gender_classifier example's own configuration: it converges for several seeds, and its
//! printed MSE matches the data.

#[path = "../examples/gender_classifier.rs"]
#[allow(dead_code)]
mod example;

#[test]
fn example_converges_for_several_seeds() {
    let data = example::people().unwrap();
    for seed in [example::SEED, 0, 1, 2, 3, 7, 2019] {
        let mut model = example::network(seed).unwrap();
        let mut first = None;
        let mut last = f64::NAN;
        example::train(&mut model, &data, |epoch, mse| {
            first.get_or_insert(mse);
            last = mse;
            assert!(mse.is_finite(), "seed {seed}, epoch {epoch}");
        })
        .unwrap();
        let emily = model.predict(&[-7.0, -3.0]).unwrap()[0];
        let frank = model.predict(&[20.0, 2.0]).unwrap()[0];
        assert!(emily > 0.9, "seed {seed}: Emily {emily}");
        assert!(frank < 0.1, "seed {seed}: Frank {frank}");
        assert!(
            last < 0.02 && last < first.unwrap(),
            "seed {seed}: {first:?} -> {last}"
        );
    }
}

#[test]
fn example_draws_the_nine_parameters_in_the_seed_order() {
    use rand::{rngs::StdRng, SeedableRng};
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = StdRng::seed_from_u64(11);
    let d: Vec<f64> = (0..9).map(|_| StandardNormal.sample(&mut rng)).collect();
    let net = example::network(11).unwrap();
    // w1 w2 b1 | w3 w4 b2 | w5 w6 b3
    assert_eq!(
        net.parameters(),
        &[d[0], d[1], d[6], d[2], d[3], d[7], d[4], d[5], d[8]]
    );
}
