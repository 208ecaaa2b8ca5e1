//! Opening a plugin library and checking its descriptor before anything else is called.
#![allow(unsafe_code)] // dlopen, the symbol lookup and reading the plugin's descriptor

use crate::adapter::PluginStrategy;
use crate::instance::plugin_message;
use crate::PluginError;
use crate::PluginKind;
use libloading::Library;
use omega_strategy_api::abi::{
    catch_panic, AbiSizes, CreateFn, DestroyFn, LastErrorFn, ParamAbi, PluginDescriptor,
    LEGACY_PLUGIN_SYMBOLS, PLUGIN_SYMBOL, PORTFOLIO_PLUGIN_SYMBOL, STATUS_ERROR, STATUS_PANIC,
    STATUS_SOME,
};
use omega_strategy_api::{ParamValue, ABI_VERSION};
use std::ffi::c_void;
use std::path::{Path, PathBuf};

/// A loaded, checked plugin library. The library stays loaded for the life of the process,
/// so its descriptor, name and functions never dangle.
#[derive(Debug, Clone)]
pub struct Plugin {
    path: PathBuf,
    descriptor: &'static PluginDescriptor,
    name: String,
    api_version: String,
}

type DescriptorFn = unsafe extern "C" fn() -> *const PluginDescriptor;

impl Plugin {
    /// Opens the library at `path` (used as given: pass an absolute path to avoid the
    /// loader's search path) and checks its ABI version and boundary type sizes.
    pub fn load(path: impl AsRef<Path>) -> Result<Plugin, PluginError> {
        let path = path.as_ref().to_path_buf();
        let library = open(&path)?;
        let find = |symbol: &str| lookup::<DescriptorFn>(library, symbol);
        let (get, symbol) = match find_symbol(&path, find) {
            Err(_) if find(PORTFOLIO_PLUGIN_SYMBOL).is_ok() => {
                return Err(PluginError::Kind {
                    path,
                    expected: PluginKind::Strategy,
                    found: PluginKind::Portfolio,
                });
            }
            found => found?,
        };
        // SAFETY: the generated function only returns the address of a static.
        let raw = unsafe { get() };
        // SAFETY: `raw` is what the plugin symbol returned: null or a descriptor that
        // starts with its version.
        unsafe { check_legacy(&path, symbol, raw) }?;
        // SAFETY: `raw` is what the plugin symbol returned, in a library never unloaded.
        unsafe { Plugin::from_descriptor(path, raw) }
    }

    /// Checks a descriptor obtained without [`Plugin::load`] (a plugin linked in statically,
    /// or a test) exactly as `load` checks a library's: null, ABI version, then every size,
    /// then the strings; only then is anything else read.
    ///
    /// # Safety
    /// `raw` must be null or point to at least a `u32` and an `AbiSizes` laid out as in every
    /// ABI version, readable for the life of the process; once version and sizes match, to a
    /// whole `PluginDescriptor` whose strings are readable and whose functions follow the ABI.
    pub unsafe fn from_descriptor(
        path: impl AsRef<Path>,
        raw: *const PluginDescriptor,
    ) -> Result<Plugin, PluginError> {
        let path = path.as_ref().to_path_buf();
        if raw.is_null() {
            return Err(PluginError::Descriptor {
                path,
                message: "the descriptor pointer is null".into(),
            });
        }
        // SAFETY: every ABI version starts the descriptor with `abi_version: u32`; nothing
        // else is read before it matched.
        let found = unsafe { raw.cast::<u32>().read() };
        check_version(&path, found)?;
        // SAFETY: in this ABI version `sizes` follows `abi_version`, so it can be read now;
        // the rest of the descriptor only after every size matched.
        let sizes = unsafe { std::ptr::addr_of!((*raw).sizes).read() };
        check_sizes(&path, &AbiSizes::CURRENT.entries(), &sizes.entries())?;
        // SAFETY: version and layout match ours, and the descriptor is a static of a library
        // that is never unloaded.
        let descriptor: &'static PluginDescriptor = unsafe { &*raw };
        let (name, api_version) = descriptor_texts(&path, descriptor.name, descriptor.api_version)?;
        Ok(Plugin {
            path,
            descriptor,
            name,
            api_version,
        })
    }

    /// The strategy's name, as the plugin declares it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The omega-strategy-api version the plugin was built with.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new strategy instance from user parameters; the plugin validates them
    /// (`PluginError::Strategy` with its message when it rejects them).
    pub fn create(&self, params: &[(String, ParamValue)]) -> Result<PluginStrategy, PluginError> {
        // A panic here (a bug on the host side) must not unwind past the caller's plugin
        // handling; the plugin's own panics never cross (its functions catch them).
        catch_panic(|| self.create_unguarded(params)).unwrap_or_else(|message| {
            Err(PluginError::HostPanic {
                strategy: self.name.clone(),
                function: "create",
                message,
            })
        })
    }

    fn create_unguarded(
        &self,
        params: &[(String, ParamValue)],
    ) -> Result<PluginStrategy, PluginError> {
        let d = self.descriptor;
        let functions = (d.create, d.last_error, d.destroy);
        let instance = create_instance(&self.name, functions, params)?;
        Ok(PluginStrategy::new(d, instance, self.name.clone()))
    }
}

/// Opens the library at `path`, never to unload it: every pointer a plugin hands out may
/// point into it.
pub(crate) fn open(path: &Path) -> Result<&'static Library, PluginError> {
    // SAFETY: opening a library runs its initialisers; loading a plugin means trusting its
    // code, which is what the user asked for by naming it.
    let library = unsafe { Library::new(path) }.map_err(|e| PluginError::Load {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(Box::leak(Box::new(library)))
}

/// The function `symbol` names in `library`, or the loader's message.
pub(crate) fn lookup<F: Copy>(library: &'static Library, symbol: &str) -> Result<F, String> {
    let name = format!("{symbol}\0");
    // SAFETY: `F` is the type `export_strategy!` / `export_portfolio_strategy!` give the
    // symbol, in this ABI version and every earlier one.
    unsafe { library.get::<F>(name.as_bytes()) }
        .map(|f| *f)
        .map_err(|e| e.to_string())
}

/// Which kind of plugin the library at `path` is, from the symbols it exports (nothing in
/// it is called): a library exporting both, or neither, is refused.
pub fn plugin_kind(path: impl AsRef<Path>) -> Result<PluginKind, PluginError> {
    let path = path.as_ref();
    let library = open(path)?;
    kind_of(path, |symbol| {
        lookup::<DescriptorFn>(library, symbol).map(|_| ())
    })
}

fn kind_of(
    path: &Path,
    has: impl Fn(&str) -> Result<(), String>,
) -> Result<PluginKind, PluginError> {
    let portfolio = has(PORTFOLIO_PLUGIN_SYMBOL).is_ok();
    let strategy = match has(PLUGIN_SYMBOL) {
        Ok(()) => Ok(()),
        // an old strategy plugin: `Plugin::load` names both versions
        Err(_) if LEGACY_PLUGIN_SYMBOLS.iter().any(|&s| has(s).is_ok()) => Ok(()),
        Err(missing) => Err(missing),
    };
    match (strategy, portfolio) {
        (Ok(()), false) => Ok(PluginKind::Strategy),
        (Err(_), true) => Ok(PluginKind::Portfolio),
        (Ok(()), true) => Err(PluginError::Descriptor {
            path: path.to_path_buf(),
            message: format!(
                "exports both {PLUGIN_SYMBOL} and {PORTFOLIO_PLUGIN_SYMBOL}: a library is one \
                 kind of plugin"
            ),
        }),
        (Err(message), false) => Err(PluginError::MissingSymbol {
            path: path.to_path_buf(),
            symbol: PLUGIN_SYMBOL,
            message: format!("{message} (nor {PORTFOLIO_PLUGIN_SYMBOL})"),
        }),
    }
}

/// A new instance from `params` through a plugin's `(create, last_error, destroy)`: the
/// instance, or the plugin's error (its message read, the instance destroyed).
pub(crate) fn create_instance(
    name: &str,
    (create, last_error, destroy): (CreateFn, LastErrorFn, DestroyFn),
    params: &[(String, ParamValue)],
) -> Result<*mut c_void, PluginError> {
    let abi: Vec<ParamAbi> = params.iter().map(|(n, v)| ParamAbi::new(n, v)).collect();
    let mut instance: *mut c_void = std::ptr::null_mut();
    // SAFETY: `abi` (and the strings it borrows from `params`) live across the call;
    // `instance` is a valid place for the pointer `create` writes.
    let status = unsafe { create(abi.as_ptr(), abi.len(), &mut instance) };
    let protocol = |message: String| PluginError::Protocol {
        strategy: name.to_string(),
        function: "create",
        message,
    };
    if instance.is_null() {
        return Err(protocol(format!("no instance (status {status})")));
    }
    if status == STATUS_SOME {
        return Ok(instance);
    }
    // SAFETY: `instance` is the live instance `create` just returned; its message is
    // copied at once, and the instance destroyed right after.
    let message = unsafe {
        let m = plugin_message(last_error(instance));
        destroy(instance);
        m
    };
    Err(match status {
        STATUS_ERROR => PluginError::Strategy { message },
        STATUS_PANIC => PluginError::Panic {
            strategy: name.to_string(),
            function: "create",
            message,
        },
        other => protocol(format!("unknown status {other}: {message}")),
    })
}

/// The strategy name and API version a descriptor declares, copied; a string that is not
/// UTF-8 is a `PluginError::Descriptor`.
pub(crate) fn descriptor_texts(
    path: &Path,
    name: omega_strategy_api::abi::AbiStr,
    api_version: omega_strategy_api::abi::AbiStr,
) -> Result<(String, String), PluginError> {
    let text = |s: omega_strategy_api::abi::AbiStr, what: &str| {
        // SAFETY: the strings point to statics of the plugin, which is never unloaded.
        unsafe { s.to_str() }
            .map(str::to_string)
            .map_err(|e| PluginError::Descriptor {
                path: path.to_path_buf(),
                message: format!("{what}: {e}"),
            })
    };
    Ok((text(name, "name")?, text(api_version, "api_version")?))
}

/// The descriptor function of the library: [`PLUGIN_SYMBOL`], else the symbol of an earlier
/// ABI version (so that the version check can name both), else `MissingSymbol` with the
/// loader's message for the current symbol.
fn find_symbol<F>(
    path: &Path,
    lookup: impl Fn(&str) -> Result<F, String>,
) -> Result<(F, &'static str), PluginError> {
    let missing = match lookup(PLUGIN_SYMBOL) {
        Ok(f) => return Ok((f, PLUGIN_SYMBOL)),
        Err(message) => message,
    };
    for &symbol in LEGACY_PLUGIN_SYMBOLS {
        if let Ok(f) = lookup(symbol) {
            return Ok((f, symbol));
        }
    }
    Err(PluginError::MissingSymbol {
        path: path.to_path_buf(),
        symbol: PLUGIN_SYMBOL,
        message: missing,
    })
}

/// A descriptor found under an older version's symbol must not claim the current version
/// (the current layout is only trusted under the current symbol).
///
/// # Safety
/// `raw` must be null or point to at least a readable `u32`.
unsafe fn check_legacy(
    path: &Path,
    symbol: &str,
    raw: *const PluginDescriptor,
) -> Result<(), PluginError> {
    if symbol == PLUGIN_SYMBOL || raw.is_null() {
        return Ok(());
    }
    // SAFETY: every ABI version starts the descriptor with `abi_version: u32`.
    let found = unsafe { raw.cast::<u32>().read() };
    if found != ABI_VERSION {
        return Ok(()); // `from_descriptor` refuses it naming both versions
    }
    Err(PluginError::Descriptor {
        path: path.to_path_buf(),
        message: format!(
            "exports the old symbol {symbol} but claims ABI {found} \
             (whose symbol is {PLUGIN_SYMBOL})"
        ),
    })
}

pub(crate) fn check_version(path: &Path, found: u32) -> Result<(), PluginError> {
    if found == ABI_VERSION {
        return Ok(());
    }
    Err(PluginError::AbiVersion {
        path: path.to_path_buf(),
        expected: ABI_VERSION,
        found,
    })
}

/// Every boundary type must have this build's size (the first difference is reported):
/// `expected` and `found` are the `entries()` of this build's sizes and of the plugin's.
pub(crate) fn check_sizes(
    path: &Path,
    expected: &[(&'static str, usize)],
    found: &[(&'static str, usize)],
) -> Result<(), PluginError> {
    for (&(type_name, want), &(_, got)) in expected.iter().zip(found) {
        if want != got {
            return Err(PluginError::Size {
                path: path.to_path_buf(),
                type_name,
                expected: want,
                found: got,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_another_abi_version_naming_both() {
        let e = check_version(Path::new("/x/p.so"), 1).unwrap_err();
        let api = omega_strategy_api::API_VERSION;
        assert_eq!(
            e.to_string(),
            format!(
                "plugin /x/p.so: ABI version mismatch: plugin built for Omega plugin ABI 1, \
                 this engine speaks ABI 3; rebuild the plugin against omega-strategy-api {api}"
            )
        );
        assert!(check_version(Path::new("p"), ABI_VERSION).is_ok());
    }

    #[test]
    fn the_current_symbol_is_preferred_then_an_older_one_is_found() {
        let both = |s: &str| Ok::<_, String>(s.to_string());
        let found = find_symbol(Path::new("p"), both).unwrap();
        assert_eq!(found.1, "omega_strategy_plugin_v3");
        let only_v1 = |s: &str| {
            (s == "omega_strategy_plugin_v1")
                .then_some(s.len())
                .ok_or_else(|| format!("undefined symbol: {s}"))
        };
        assert_eq!(
            find_symbol(Path::new("p"), only_v1).unwrap(),
            (24, "omega_strategy_plugin_v1")
        );
        let none = |s: &str| Err::<(), _>(format!("undefined symbol: {s}"));
        assert_eq!(
            find_symbol(Path::new("p"), none).unwrap_err(),
            PluginError::MissingSymbol {
                path: "p".into(),
                symbol: PLUGIN_SYMBOL,
                message: "undefined symbol: omega_strategy_plugin_v3".into(),
            }
        );
    }

    #[test]
    fn an_old_symbol_must_not_claim_the_current_version() {
        let p = Path::new("p");
        let (v1, v2) = ("omega_strategy_plugin_v1", PLUGIN_SYMBOL);
        let (old, current): (u32, u32) = (1, ABI_VERSION);
        // SAFETY: each pointer addresses a readable `u32` (or is null).
        unsafe {
            assert!(check_legacy(p, v1, (&old as *const u32).cast()).is_ok());
            assert!(check_legacy(p, v2, (&current as *const u32).cast()).is_ok());
            assert!(check_legacy(p, v1, std::ptr::null()).is_ok());
            let e = check_legacy(p, v1, (&current as *const u32).cast()).unwrap_err();
            assert_eq!(
                e.to_string(),
                "plugin p: invalid descriptor: exports the old symbol omega_strategy_plugin_v1 \
                 but claims ABI 3 (whose symbol is omega_strategy_plugin_v3)"
            );
        }
    }

    #[test]
    fn refuses_the_first_size_that_differs() {
        let mut sizes = AbiSizes::CURRENT;
        let current = AbiSizes::CURRENT.entries();
        assert!(check_sizes(Path::new("p"), &current, &sizes.entries()).is_ok());
        sizes.slice += 8;
        sizes.action += 8;
        let e = check_sizes(Path::new("p"), &current, &sizes.entries()).unwrap_err();
        assert_eq!(
            e,
            PluginError::Size {
                path: "p".into(),
                type_name: "SliceAbi",
                expected: AbiSizes::CURRENT.slice,
                found: AbiSizes::CURRENT.slice + 8,
            }
        );
    }

    #[test]
    fn the_kind_is_told_by_the_symbols() {
        let p = Path::new("p");
        let exports = |names: &'static [&'static str]| {
            move |s: &str| {
                names
                    .contains(&s)
                    .then_some(())
                    .ok_or_else(|| format!("undefined symbol: {s}"))
            }
        };
        let kind = |names| kind_of(p, exports(names));
        assert_eq!(kind(&[PLUGIN_SYMBOL]), Ok(PluginKind::Strategy));
        assert_eq!(
            kind(&["omega_strategy_plugin_v2"]),
            Ok(PluginKind::Strategy)
        );
        assert_eq!(kind(&[PORTFOLIO_PLUGIN_SYMBOL]), Ok(PluginKind::Portfolio));
        let both = kind(&[PLUGIN_SYMBOL, PORTFOLIO_PLUGIN_SYMBOL]).unwrap_err();
        assert!(both.to_string().contains("one kind of plugin"), "{both}");
        assert_eq!(
            kind(&[]).unwrap_err(),
            PluginError::MissingSymbol {
                path: "p".into(),
                symbol: PLUGIN_SYMBOL,
                message: "undefined symbol: omega_strategy_plugin_v3 \
                          (nor omega_portfolio_plugin_v3)"
                    .into(),
            }
        );
    }

    #[test]
    fn a_missing_file_is_a_load_error() {
        let e = Plugin::load("/nonexistent/libnothing.so").unwrap_err();
        assert!(matches!(e, PluginError::Load { .. }), "{e}");
    }
}
