//! Which content-script registrations the self-hosted servers need, given what is granted and registered.

use crate::engine::recipe::Server;

/// Registration ids of server content scripts start with this.
pub const PREFIX: &str = "server:";

/// The registration id of a server's content script.
pub fn script_id(host: &str) -> String {
    format!("{PREFIX}{host}")
}

/// The origin pattern asked for and matched on a server.
pub fn match_pattern(host: &str) -> String {
    format!("https://{host}/*")
}

/// What to change so that exactly the granted servers have a content script.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub register: Vec<String>,
    pub unregister: Vec<String>,
}

/// `granted[i]` says whether the origin of `servers[i]` is granted; `registered` lists the ids the
/// browser has now (other registrations are left alone).
pub fn plan(servers: &[Server], granted: &[bool], registered: &[String]) -> Plan {
    let wanted: Vec<String> =
        servers.iter().zip(granted).filter(|(_, g)| **g).map(|(s, _)| script_id(&s.host)).collect();
    Plan {
        register: wanted
            .iter()
            .filter(|id| !registered.contains(id))
            .map(|id| id[PREFIX.len()..].to_string())
            .collect(),
        unregister: registered.iter().filter(|id| id.starts_with(PREFIX) && !wanted.contains(id)).cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(host: &str) -> Server {
        Server { vendor: "planningspace".into(), host: host.into(), address: String::new() }
    }

    #[test]
    fn registers_granted_servers_and_drops_revoked_or_removed_ones() {
        let servers = [server("a.example.com"), server("b.example.com"), server("c.example.com")];
        let registered = vec![script_id("b.example.com"), script_id("gone.example.com"), "unrelated".to_string()];
        let p = plan(&servers, &[true, false, true], &registered);
        assert_eq!(p.register, vec!["a.example.com".to_string(), "c.example.com".to_string()]);
        assert_eq!(p.unregister, vec![script_id("b.example.com"), script_id("gone.example.com")]);
    }

    #[test]
    fn nothing_to_do_when_in_step() {
        let servers = [server("a.example.com")];
        assert_eq!(plan(&servers, &[true], &[script_id("a.example.com")]), Plan::default());
    }
}
