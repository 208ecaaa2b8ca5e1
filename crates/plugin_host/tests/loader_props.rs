//! Property tests of the plugin loader: a corrupt descriptor, a wrong size table, a file that
//! is not a library each give the named `PluginError` (naming the type, both sizes, both
//! versions), never a panic and never a read past the first field that did not match.
#![allow(unsafe_code)] // handing hand-made descriptors to `Plugin::from_descriptor`

use omega_plugin_host::{Plugin, PluginError};
use omega_strategy_api::abi::{AbiSizes, AbiStr, PluginDescriptor, PluginStrategy};
use omega_strategy_api::{
    DataSlice, ParamValue, RunContext, StrategyError, TradeSignal, ABI_VERSION, API_VERSION,
};
use proptest::prelude::*;
use std::io::Write;
use std::mem::{align_of, size_of};

struct Quiet;

impl omega_strategy_api::Strategy for Quiet {
    fn name(&self) -> &str {
        "quiet"
    }
    fn init(&mut self, _ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        Ok(())
    }
    fn evaluate(&mut self, _slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        Ok(None)
    }
}

impl PluginStrategy for Quiet {
    const NAME: &'static str = "quiet";
    fn create(params: &[(String, ParamValue)]) -> Result<Self, String> {
        match params.first() {
            None => Ok(Quiet),
            Some((name, _)) => Err(format!("unknown parameter '{name}'")),
        }
    }
}

const N_SIZES: usize = 15;

fn sizes_from(v: [usize; N_SIZES]) -> AbiSizes {
    AbiSizes {
        descriptor: v[0],
        str_: v[1],
        columns: v[2],
        frame: v[3],
        indicator_key: v[4],
        indicator: v[5],
        position: v[6],
        slice: v[7],
        signal: v[8],
        action: v[9],
        param: v[10],
        context: v[11],
        init: v[12],
        action_list: v[13],
        order: v[14],
    }
}

fn current_sizes() -> [usize; N_SIZES] {
    AbiSizes::CURRENT.entries().map(|(_, size)| size)
}

/// A descriptor that lives for the rest of the process, as a plugin's static does.
fn leak(d: PluginDescriptor) -> *const PluginDescriptor {
    Box::leak(Box::new(d))
}

/// `PROPTEST_CASES` in the environment (a longer fuzz run) or `default` cases.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok());
    ProptestConfig::with_cases(cases.unwrap_or(default))
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn another_abi_version_is_refused_naming_both(found in any::<u32>()) {
        prop_assume!(found != ABI_VERSION);
        let d = PluginDescriptor { abi_version: found, ..PluginDescriptor::of::<Quiet>() };
        // SAFETY: a whole, valid descriptor apart from the version.
        let e = unsafe { Plugin::from_descriptor("/p/lib.so", leak(d)) }.unwrap_err();
        prop_assert_eq!(
            &e,
            &PluginError::AbiVersion { path: "/p/lib.so".into(), expected: ABI_VERSION, found }
        );
        prop_assert_eq!(
            e.to_string(),
            format!(
                "plugin /p/lib.so: ABI version mismatch: plugin built for Omega plugin ABI \
                 {found}, this engine speaks ABI {ABI_VERSION}; rebuild the plugin against \
                 omega-strategy-api {API_VERSION}"
            )
        );
    }

    #[test]
    fn a_wrong_size_table_names_the_first_wrong_type_and_both_sizes(
        changes in prop::collection::vec((0..N_SIZES, any::<usize>()), 1..6)
    ) {
        let mut table = current_sizes();
        for (index, size) in &changes {
            table[*index] = *size;
        }
        let d = PluginDescriptor { sizes: sizes_from(table), ..PluginDescriptor::of::<Quiet>() };
        // SAFETY: a whole descriptor; only the size table may be wrong.
        let outcome = unsafe { Plugin::from_descriptor("p", leak(d)) };
        let expected = AbiSizes::CURRENT.entries();
        match expected.iter().zip(table).find(|((_, want), got)| want != got) {
            None => prop_assert!(outcome.is_ok()), // every change rewrote a size to itself
            Some(((type_name, want), got)) => {
                let e = outcome.unwrap_err();
                prop_assert_eq!(
                    &e,
                    &PluginError::Size { path: "p".into(), type_name, expected: *want, found: got }
                );
                let text = e.to_string();
                prop_assert!(text.contains(type_name) && text.contains(&got.to_string()), "{text}");
            }
        }
    }

    #[test]
    fn random_descriptor_bytes_are_refused_before_anything_past_the_sizes_is_read(
        words in prop::collection::vec(any::<u64>(), 16..17),
    ) {
        // Only as many bytes as the version and the size table take: reading further (the
        // name, the functions) would fault, so passing shows nothing else was read.
        let header = size_of::<u64>() + N_SIZES * size_of::<usize>();
        prop_assert!(words.len() * 8 >= header && align_of::<PluginDescriptor>() <= 8);
        let version = words[0] as u32;
        let words: &'static [u64] = Box::leak(words.into_boxed_slice());
        let raw = words.as_ptr().cast::<PluginDescriptor>();
        // SAFETY: `header` readable, 8-aligned bytes; the loader reads no further unless the
        // version and all fifteen sizes match, which random words do not (asserted below).
        let sizes_match = words[1..16].iter().zip(current_sizes()).all(|(w, s)| *w as usize == s);
        prop_assume!(!(version == ABI_VERSION && sizes_match));
        let e = unsafe { Plugin::from_descriptor("r", raw) }.unwrap_err();
        if version != ABI_VERSION {
            let ok = matches!(e, PluginError::AbiVersion { found, .. } if found == version);
            prop_assert!(ok, "{}", e);
        } else {
            prop_assert!(matches!(e, PluginError::Size { .. }), "{e}");
        }
    }

    #[test]
    fn a_name_that_is_not_utf8_is_a_descriptor_error(
        name in prop::collection::vec(any::<u8>(), 0..24),
        version in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let name: &'static [u8] = Box::leak(name.into_boxed_slice());
        let version: &'static [u8] = Box::leak(version.into_boxed_slice());
        let d = PluginDescriptor {
            name: AbiStr { ptr: name.as_ptr(), len: name.len() },
            api_version: AbiStr { ptr: version.as_ptr(), len: version.len() },
            ..PluginDescriptor::of::<Quiet>()
        };
        // SAFETY: the strings point to leaked bytes; everything else is valid.
        let outcome = unsafe { Plugin::from_descriptor("n", leak(d)) };
        match (std::str::from_utf8(name), std::str::from_utf8(version)) {
            (Ok(n), Ok(v)) => {
                let plugin = outcome.unwrap();
                prop_assert_eq!(plugin.name(), n);
                prop_assert_eq!(plugin.api_version(), v);
            }
            (Err(_), _) => prop_assert!(
                matches!(&outcome, Err(PluginError::Descriptor { message, .. }) if message.starts_with("name:")),
                "{outcome:?}"
            ),
            (Ok(_), Err(_)) => prop_assert!(
                matches!(&outcome, Err(PluginError::Descriptor { message, .. }) if message.starts_with("api_version:")),
                "{outcome:?}"
            ),
        }
    }
}

proptest! {
    // Each case opens a file with the system loader: fewer cases.
    #![proptest_config(config(64))]

    #[test]
    fn a_file_that_is_not_a_library_is_a_load_error(
        elf_magic in any::<bool>(),
        bytes in prop::collection::vec(any::<u8>(), 0..4096),
    ) {
        let dir = std::env::temp_dir().join(format!("omega-loader-props-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("lib{}.so", bytes.len()));
        let mut file = std::fs::File::create(&path).unwrap();
        if elf_magic {
            file.write_all(b"\x7fELF\x02\x01\x01\0").unwrap(); // a truncated ELF header
        }
        file.write_all(&bytes).unwrap();
        drop(file);
        let e = Plugin::load(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        prop_assert!(matches!(&e, PluginError::Load { path: p, .. } if *p == path), "{e}");
        let prefix = format!("plugin {}: cannot load", path.display());
        prop_assert!(e.to_string().starts_with(&prefix), "{}", e);
    }
}

#[test]
fn a_plugin_built_for_abi_1_is_refused_naming_both_versions() {
    // What a plugin built against omega-strategy-api 0.1 hands out: version 1 first (its
    // size table is not read once the version differs).
    let d = PluginDescriptor {
        abi_version: 1,
        ..PluginDescriptor::of::<Quiet>()
    };
    // SAFETY: a whole descriptor apart from the version.
    let e = unsafe { Plugin::from_descriptor("/old/libplugin.so", leak(d)) }.unwrap_err();
    assert_eq!(
        e,
        PluginError::AbiVersion {
            path: "/old/libplugin.so".into(),
            expected: 3,
            found: 1
        }
    );
    assert_eq!(
        e.to_string(),
        format!(
            "plugin /old/libplugin.so: ABI version mismatch: plugin built for Omega plugin ABI 1, \
             this engine speaks ABI 3; rebuild the plugin against omega-strategy-api {API_VERSION}"
        )
    );
}

#[test]
fn a_null_descriptor_is_a_descriptor_error() {
    // SAFETY: null is allowed.
    let e = unsafe { Plugin::from_descriptor("z", std::ptr::null()) }.unwrap_err();
    assert_eq!(
        e.to_string(),
        "plugin z: invalid descriptor: the descriptor pointer is null"
    );
}

#[test]
fn a_valid_in_memory_descriptor_loads_and_creates_its_strategy() {
    static QUIET: PluginDescriptor = PluginDescriptor::of::<Quiet>();
    // SAFETY: a static descriptor of this build.
    let plugin = unsafe { Plugin::from_descriptor("q", &QUIET) }.unwrap();
    assert_eq!(plugin.name(), "quiet");
    assert_eq!(plugin.api_version(), omega_strategy_api::API_VERSION);
    assert_eq!(plugin.path(), std::path::Path::new("q"));
    assert!(plugin.create(&[]).is_ok());
    let e = plugin
        .create(&[("nope".to_string(), ParamValue::Int(1))])
        .unwrap_err();
    assert_eq!(
        e,
        PluginError::Strategy {
            message: "unknown parameter 'nope'".into()
        }
    );
}
