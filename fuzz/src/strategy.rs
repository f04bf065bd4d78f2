//! The bundled strategies built as the host builds them (root module, `new_strategy`, the
//! SDK's guard around every call), for the `load_state` target and its seeds.
use fuzzaug_sdk::{
    abi_stable::std_types::{RResult, RSlice, RStr},
    export::root_module,
    strategy::StrategyObject,
    testing::{self, gene},
    PluginError, PluginModRef, StrategySetup,
};
use std::sync::OnceLock;

/// (library, component, settings) of every strategy the target builds.
pub const STRATEGIES: &[(&str, &str, &str)] = &[
    ("baselines", "standard", ""),
    ("baselines", "random", ""),
    ("baselines", "w10", "k = 3"),
    ("sensei", "sensei", "population = 4"),
    ("sensei", "sensei-rw", "population = 5\nmutation_rate = 0.0"),
    (
        "sensei",
        "sensei-t",
        "population = 4\ntournament_size = 2\nselective.enabled = true\nclass_pair_cap = 1",
    ),
];

/// Training samples of the setup.
pub const SAMPLES: u64 = 6;
/// Classes of the setup.
pub const CLASSES: u32 = 3;

/// The search space: a discrete rotation, a continuous zoom and a constant gene.
pub fn setup() -> StrategySetup {
    testing::setup(
        vec![
            gene("rotation", -30.0, 30.0, 0.0)
                .with_step(5.0)
                .with_mutation(6.0, 12.0),
            gene("zoom", 0.9, 1.1, 1.0).with_mutation(0.05, 0.1),
            gene("fixed", 2.0, 2.0, 2.0),
        ],
        SAMPLES,
        CLASSES,
    )
}

/// The root module of `library`, built once as the loader does (it is leaked on purpose).
fn module(library: &str) -> PluginModRef {
    static BASELINES: OnceLock<PluginModRef> = OnceLock::new();
    static SENSEI: OnceLock<PluginModRef> = OnceLock::new();
    match library {
        "baselines" => {
            *BASELINES.get_or_init(root_module::<fuzzaug_baselines::FuzzaugPluginSource>)
        }
        _ => *SENSEI.get_or_init(root_module::<fuzzaug_sensei::FuzzaugPluginSource>),
    }
}

/// A strategy of [`STRATEGIES`] and the setup it was built for.
pub struct Built {
    /// Its index in [`STRATEGIES`].
    pub index: usize,
    /// Its component name.
    pub name: &'static str,
    /// The object, as the host holds it.
    pub object: StrategyObject,
    /// Its setup.
    pub setup: StrategySetup,
}

/// `r`'s value; `None` for an error; a panic for an error that reports a panic inside the
/// plugin (the SDK's guard caught it).
pub fn ok_or_panic<T>(s: &Built, method: &str, r: RResult<T, PluginError>) -> Option<T> {
    match r.into_result() {
        Ok(v) => Some(v),
        Err(e) if e.panicked => panic!("`{}` {method}: {}", s.name, e.message),
        Err(_) => None,
    }
}

impl Built {
    /// Strategy `choice` of [`STRATEGIES`] (modulo their number).
    pub fn new(choice: usize) -> Self {
        let index = choice % STRATEGIES.len();
        let (library, name, settings) = STRATEGIES[index];
        let setup = setup();
        let ctx = testing::context(7, "/fuzz");
        let made =
            (module(library).new_strategy())(RStr::from(name), RStr::from(settings), &ctx, &setup);
        // The SDK's guard has replaced libfuzzer's panic hook by now.
        crate::abort_on_panic();
        let object = made
            .into_result()
            .unwrap_or_else(|e| panic!("building `{name}`: {}", e.message));
        Self {
            index,
            name,
            object,
            setup,
        }
    }

    /// `load_state(state)`.
    pub fn load_state(&mut self, state: &[u8]) -> RResult<(), PluginError> {
        self.object.load_state(RSlice::from(state))
    }

    /// `save_state()`, which must succeed.
    pub fn save(&self) -> Vec<u8> {
        let r = self.object.save_state();
        self.must(ok_or_panic(self, "save_state", r), "save_state")
            .into_vec()
    }

    fn must<T>(&self, v: Option<T>, method: &str) -> T {
        v.unwrap_or_else(|| panic!("`{}` {method} failed on a state it loaded", self.name))
    }

    /// Checks that `values` are whole chromosomes of valid gene values.
    fn check_genes(&self, method: &str, values: &[f64], chromosomes: usize) {
        let genes = &self.setup.genes;
        assert_eq!(
            values.len(),
            chromosomes * genes.len(),
            "`{}` {method}: {} values for {chromosomes} chromosomes of {} genes",
            self.name,
            values.len(),
            genes.len()
        );
        for (i, (v, g)) in values.iter().zip(genes.iter().cycle()).enumerate() {
            assert!(
                v.is_finite() && g.lo <= *v && *v <= g.hi,
                "`{}` {method}: value {v} of gene `{}` (chromosome {}) outside [{}, {}]",
                self.name,
                g.name,
                i / genes.len(),
                g.lo,
                g.hi
            );
        }
    }

    /// Runs a strategy that has loaded a state through one batch, checking every answer, then
    /// checks that its state survives a save and a load.
    pub fn exercise(&mut self) {
        let before = self.save();
        let mut again = Built::new(self.index);
        let reloaded = again.load_state(&before);
        self.must(ok_or_panic(&again, "load_state", reloaded), "load_state");
        assert!(
            again.save() == before,
            "`{}`: a state saved after load_state saves differently once loaded again",
            self.name
        );

        let samples: Vec<u64> = (0..SAMPLES).collect();
        let r = self.object.incumbents(RSlice::from(&samples[..]));
        let incumbents = self.must(ok_or_panic(self, "incumbents", r), "incumbents");
        self.check_genes("incumbents", &incumbents, samples.len());

        let r = self.object.begin_epoch(1);
        self.must(ok_or_panic(self, "begin_epoch", r), "begin_epoch");
        let batch = [4, 0, 5];
        let r = self.object.propose(RSlice::from(&batch[..]));
        let proposal = self.must(ok_or_panic(self, "propose", r), "propose");
        assert_eq!(
            proposal.counts.len(),
            batch.len(),
            "`{}` propose",
            self.name
        );
        let candidates: usize = proposal.counts.iter().map(|&k| k as usize).sum();
        self.check_genes("propose", &proposal.genes, candidates);
        let fitness: Vec<f32> = (0..candidates).map(|i| (i % 4) as f32 * 0.5).collect();
        let correct: Vec<bool> = (0..candidates).map(|i| i % 3 != 0).collect();
        let predicted: Vec<u32> = (0..candidates).map(|i| i as u32 % CLASSES).collect();
        let labels: Vec<u32> = batch.iter().map(|&s| s as u32 % CLASSES).collect();
        let r = self.object.select(
            RSlice::from(&fitness[..]),
            RSlice::from(&correct[..]),
            RSlice::from(&predicted[..]),
            RSlice::from(&labels[..]),
        );
        let chosen = self.must(ok_or_panic(self, "select", r), "select");
        self.check_genes("select", &chosen, batch.len());
        let r = self.object.take_counters();
        self.must(ok_or_panic(self, "take_counters", r), "take_counters");

        let after = self.save();
        let mut third = Built::new(self.index);
        let reloaded = third.load_state(&after);
        self.must(ok_or_panic(&third, "load_state", reloaded), "load_state");
    }
}
