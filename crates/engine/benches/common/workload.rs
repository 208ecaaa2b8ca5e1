//! The settings of the python-bench workloads (M5 primary with H1 for mean reversion, M1 for
//! the others), shared by the criterion benches and the profiling examples.

use omega_engine::EngineSettings;
use omega_strategy_api::Timeframe;

pub fn workload_settings(strategy: &str) -> EngineSettings {
    let (primary, extra) = if strategy == "mean_reversion_z_score" {
        (Timeframe::M5, vec![Timeframe::H1])
    } else {
        (Timeframe::M1, vec![])
    };
    EngineSettings {
        primary_timeframe: primary,
        timeframes: [vec![primary], extra].concat(),
        ..EngineSettings::default()
    }
}
