//! Opening a portfolio plugin library and checking its descriptor, as `loader` does for a
//! single-strategy one (same version rule, its own table of sizes).
#![allow(unsafe_code)] // the symbol's call and reading the plugin's descriptor

use crate::loader::{check_sizes, check_version, create_instance, descriptor_texts, lookup, open};
use crate::portfolio_adapter::PluginPortfolio;
use crate::{PluginError, PluginKind};
use omega_strategy_api::abi::{
    catch_panic, PortfolioAbiSizes, PortfolioPluginDescriptor, LEGACY_PLUGIN_SYMBOLS,
    PLUGIN_SYMBOL, PORTFOLIO_PLUGIN_SYMBOL,
};
use omega_strategy_api::ParamValue;
use std::path::{Path, PathBuf};

/// A loaded, checked portfolio plugin library (never unloaded, as [`crate::Plugin`]).
#[derive(Debug, Clone)]
pub struct PortfolioPlugin {
    path: PathBuf,
    descriptor: &'static PortfolioPluginDescriptor,
    name: String,
    api_version: String,
}

type DescriptorFn = unsafe extern "C" fn() -> *const PortfolioPluginDescriptor;

impl PortfolioPlugin {
    /// Opens the library at `path` and checks its ABI version and boundary type sizes; a
    /// single-strategy plugin is refused with [`PluginError::Kind`].
    pub fn load(path: impl AsRef<Path>) -> Result<PortfolioPlugin, PluginError> {
        let path = path.as_ref().to_path_buf();
        let library = open(&path)?;
        let get = match lookup::<DescriptorFn>(library, PORTFOLIO_PLUGIN_SYMBOL) {
            Ok(get) => get,
            Err(message) => {
                let single = std::iter::once(PLUGIN_SYMBOL)
                    .chain(LEGACY_PLUGIN_SYMBOLS.iter().copied())
                    .any(|s| lookup::<DescriptorFn>(library, s).is_ok());
                return Err(if single {
                    PluginError::Kind {
                        path,
                        expected: PluginKind::Portfolio,
                        found: PluginKind::Strategy,
                    }
                } else {
                    PluginError::MissingSymbol {
                        path,
                        symbol: PORTFOLIO_PLUGIN_SYMBOL,
                        message,
                    }
                });
            }
        };
        // SAFETY: the generated function only returns the address of a static.
        let raw = unsafe { get() };
        // SAFETY: `raw` is what the plugin symbol returned, in a library never unloaded.
        unsafe { PortfolioPlugin::from_descriptor(path, raw) }
    }

    /// Checks a descriptor obtained without [`PortfolioPlugin::load`] (a test, a plugin
    /// linked in statically) exactly as `load` does: null, ABI version, every size, then the
    /// strings.
    ///
    /// # Safety
    /// As [`crate::Plugin::from_descriptor`], for a `PortfolioPluginDescriptor`.
    pub unsafe fn from_descriptor(
        path: impl AsRef<Path>,
        raw: *const PortfolioPluginDescriptor,
    ) -> Result<PortfolioPlugin, PluginError> {
        let path = path.as_ref().to_path_buf();
        if raw.is_null() {
            return Err(PluginError::Descriptor {
                path,
                message: "the descriptor pointer is null".into(),
            });
        }
        // SAFETY: every ABI version starts the descriptor with `abi_version: u32`.
        let found = unsafe { raw.cast::<u32>().read() };
        check_version(&path, found)?;
        // SAFETY: in this ABI version `sizes` follows `abi_version`; the rest of the
        // descriptor is read only after every size matched.
        let sizes = unsafe { std::ptr::addr_of!((*raw).sizes).read() };
        check_sizes(
            &path,
            &PortfolioAbiSizes::CURRENT.entries(),
            &sizes.entries(),
        )?;
        // SAFETY: version and layout match ours; a static of a library never unloaded.
        let descriptor: &'static PortfolioPluginDescriptor = unsafe { &*raw };
        let (name, api_version) = descriptor_texts(&path, descriptor.name, descriptor.api_version)?;
        Ok(PortfolioPlugin {
            path,
            descriptor,
            name,
            api_version,
        })
    }

    /// The portfolio strategy's name, as the plugin declares it.
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

    /// A new portfolio instance from user parameters; the plugin validates them
    /// (`PluginError::Strategy` with its message when it rejects them).
    pub fn create(&self, params: &[(String, ParamValue)]) -> Result<PluginPortfolio, PluginError> {
        catch_panic(|| {
            let d = self.descriptor;
            let instance =
                create_instance(&self.name, (d.create, d.last_error, d.destroy), params)?;
            Ok(PluginPortfolio::new(d, instance, self.name.clone()))
        })
        .unwrap_or_else(|message| {
            Err(PluginError::HostPanic {
                strategy: self.name.clone(),
                function: "create",
                message,
            })
        })
    }
}
