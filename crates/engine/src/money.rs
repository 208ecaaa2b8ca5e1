//! Account-currency arithmetic, each formula in the operation order of the spec.

use crate::settings::{Conversion, FeeSettings};

/// `to_account(amount_quote, rate)`: `rate` is the pair's own price (a base-currency
/// account divides by it); a cross reads `cross_rate`, the conversion rate of the bar.
#[inline]
pub fn to_account(conversion: Conversion, amount_quote: f64, rate: f64, cross_rate: f64) -> f64 {
    match conversion {
        Conversion::Quote => amount_quote,
        Conversion::Base => amount_quote / rate,
        Conversion::Cross(true) => amount_quote * cross_rate,
        Conversion::Cross(false) => amount_quote / cross_rate,
    }
}

/// Fee of a fill of `lots` at `price`:
/// `lots * commission_per_lot + to_account(lots * cs * price, price) * (percent / 100.0)`.
#[inline]
pub fn fee(
    conversion: Conversion,
    fees: &FeeSettings,
    cs: f64,
    lots: f64,
    price: f64,
    cross_rate: f64,
) -> f64 {
    lots * fees.commission_per_lot
        + to_account(conversion, lots * cs * price, price, cross_rate)
            * (fees.percent_of_notional / 100.0)
}

/// Gross PnL of closing `lots` at `price`: long `(price - entry) * lots * cs`, short
/// `(entry - price) * lots * cs`, converted at `price`.
#[inline]
pub fn gross_pnl(
    conversion: Conversion,
    long: bool,
    entry: f64,
    price: f64,
    lots: f64,
    cs: f64,
    cross_rate: f64,
) -> f64 {
    let quote = if long {
        (price - entry) * lots * cs
    } else {
        (entry - price) * lots * cs
    };
    to_account(conversion, quote, price, cross_rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usd_account_on_eurusd_and_usdjpy() {
        // EURUSD, USD account: 1 lot from 1.1000 to 1.1010 earns 0.0010 * 100000 = 100 USD.
        let g = gross_pnl(Conversion::Quote, true, 1.1, 1.101, 1.0, 100_000.0, 1.0);
        assert_eq!(g, (1.101 - 1.1) * 1.0 * 100_000.0);
        assert!((g - 100.0).abs() < 1e-9);
        // USDJPY, USD account: 1 lot short from 150.00 to 149.00 earns 100000 JPY / 149 USD.
        let g = gross_pnl(Conversion::Base, false, 150.0, 149.0, 1.0, 100_000.0, 1.0);
        assert_eq!(g, 100_000.0 / 149.0);
    }

    #[test]
    fn fee_adds_commission_and_notional_percent() {
        let fees = FeeSettings {
            commission_per_lot: 3.5,
            percent_of_notional: 0.002,
        };
        // 2 lots at 1.2: 7.0 + 240000 * 0.00002 = 7.0 + 4.8.
        let f = fee(Conversion::Quote, &fees, 100_000.0, 2.0, 1.2, 1.0);
        assert_eq!(f, 2.0 * 3.5 + 2.0 * 100_000.0 * 1.2 * (0.002 / 100.0));
        assert!((f - 11.8).abs() < 1e-9);
    }
}
