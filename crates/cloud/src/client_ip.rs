//! Who is calling, by network address, for rate limits.
//!
//! Behind a reverse proxy every request comes from the proxy, so the client's address is taken
//! from `Forwarded` (RFC 7239) or `X-Forwarded-For`, but only when the peer is a proxy the
//! operator configured: anyone else could write those headers to get a fresh bucket per
//! request. The chain is read from the right, skipping trusted proxies, so a client cannot
//! prepend a made-up address either. IPv6 clients are limited per /64, the block one subscriber
//! usually holds, or every one of its 2⁶⁴ addresses would be a fresh bucket.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;

/// An address block: `10.0.0.0/8`, `2001:db8::/32`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> anyhow::Result<Cidr> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>()?, Some(p.parse::<u8>()?)),
            None => (text.trim().parse::<IpAddr>()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        anyhow::ensure!(
            prefix <= max,
            "a /{prefix} block is longer than the address"
        );
        Ok(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(net)), self.prefix, 32)
                    == masked(u128::from(u32::from(ip)), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix, 128)
                    == masked(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let shift = u32::from(width - prefix);
    (bits >> shift) << shift
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, what a dual-stack socket reports) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The operator's trusted proxies.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    pub fn parse(list: &[String]) -> anyhow::Result<TrustedProxies> {
        Ok(TrustedProxies(
            list.iter()
                .map(|s| Cidr::parse(s))
                .collect::<anyhow::Result<_>>()?,
        ))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client's address: the peer's, or — when the peer is a trusted proxy — the right-most
    /// address in the forwarding headers that is not itself a trusted proxy.
    pub fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer.ip());
        if !self.trusts(peer) {
            return peer;
        }
        let chain = forwarded_chain(headers);
        for ip in chain.iter().rev() {
            if !self.trusts(*ip) {
                return *ip;
            }
        }
        // Every hop is ours (or the header is missing): the left-most is the closest we know.
        chain.first().copied().unwrap_or(peer)
    }
}

/// The addresses a request passed through, client first: from `Forwarded` when present, else
/// `X-Forwarded-For`. Entries that are not addresses (`unknown`, obfuscated ids) are skipped.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let forwarded: Vec<IpAddr> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (k, v) = pair.trim().split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_node(v))?
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(parse_node)
        .collect()
}

/// `1.2.3.4`, `1.2.3.4:5678`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest
            .split_once(']')?
            .0
            .parse::<Ipv6Addr>()
            .ok()
            .map(|ip| canonical(IpAddr::V6(ip)));
    }
    text.parse::<SocketAddr>().ok().map(|s| canonical(s.ip()))
}

/// The bucket an address counts against: IPv4 whole, IPv6 by its /64.
pub fn bucket_of(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(masked(u128::from(v6), 64, 128))),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        h
    }

    #[test]
    fn headers_count_only_from_a_trusted_proxy() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8".into()]).expect("parses");
        let h = headers(&[("x-forwarded-for", "203.0.113.7")]);
        let from_proxy: SocketAddr = "10.1.2.3:5000".parse().expect("addr");
        let from_elsewhere: SocketAddr = "198.51.100.9:5000".parse().expect("addr");
        assert_eq!(
            proxies.client(from_proxy, &h),
            "203.0.113.7".parse::<IpAddr>().expect("ip")
        );
        assert_eq!(
            proxies.client(from_elsewhere, &h),
            "198.51.100.9".parse::<IpAddr>().expect("ip"),
            "a client's own header is ignored"
        );
    }

    #[test]
    fn a_prepended_address_does_not_fool_the_chain() {
        let proxies = TrustedProxies::parse(&["10.0.0.1".into(), "10.0.0.2".into()]).expect("ok");
        // The client wrote "1.1.1.1" itself; the proxies appended the real one and each other.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.7, 10.0.0.2")]);
        let peer: SocketAddr = "10.0.0.1:80".parse().expect("addr");
        assert_eq!(
            proxies.client(peer, &h),
            "203.0.113.7".parse::<IpAddr>().expect("ip")
        );
        let h = headers(&[(
            "forwarded",
            "for=1.1.1.1, for=\"[2001:db8::7]:4711\";proto=https",
        )]);
        assert_eq!(
            proxies.client(peer, &h),
            "2001:db8::7".parse::<IpAddr>().expect("ip"),
            "Forwarded wins and takes bracketed IPv6 with a port"
        );
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_is_ipv4() {
        let a = bucket_of("2001:db8:1:2:aaaa::1".parse().expect("ip"));
        let b = bucket_of("2001:db8:1:2:ffff::9".parse().expect("ip"));
        let c = bucket_of("2001:db8:1:3::1".parse().expect("ip"));
        assert_eq!(a, b, "one /64");
        assert_ne!(a, c, "another /64");
        assert_eq!(
            bucket_of("::ffff:192.0.2.1".parse().expect("ip")),
            "192.0.2.1".parse::<IpAddr>().expect("ip")
        );
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(
            Cidr::parse("::/0")
                .expect("all v6")
                .contains("2001:db8::1".parse().expect("ip"))
        );
    }
}
