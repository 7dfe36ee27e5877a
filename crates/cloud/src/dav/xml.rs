//! WebDAV XML: requests read into a small bounded tree, multistatus answers written as text.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

pub const DAV: &str = "DAV:";
pub const CARDDAV: &str = "urn:ietf:params:xml:ns:carddav";
pub const CS: &str = "http://calendarserver.org/ns/";

/// Deepest element nesting and most elements a request may hold (a multiget of 20,000 hrefs
/// fits; anything deeper or larger is not a WebDAV request).
const MAX_DEPTH: usize = 32;
const MAX_NODES: usize = 50_000;
/// Most distinct properties one request may name (clients name at most a few dozen).
pub const MAX_PROPS: usize = 64;

/// One element: its namespace, local name, attributes (by local name), text and children.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Node {
    pub ns: String,
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    pub fn child(&self, ns: &str, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    pub fn all<'a>(&'a self, ns: &'a str, name: &'a str) -> impl Iterator<Item = &'a Node> {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

/// Longest element name or namespace taken: unknown properties are echoed back in answers.
const MAX_NAME: usize = 256;

fn element(ns: &ResolveResult<'_>, e: &quick_xml::events::BytesStart<'_>) -> Result<Node, String> {
    let ns = match ns {
        ResolveResult::Bound(n) => n.0.to_owned(),
        _ => String::new(),
    };
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?;
        attrs.push((a.key.local_name().as_ref().to_owned(), value.into_owned()));
    }
    let name = e.local_name().as_ref().to_owned();
    if name.len() > MAX_NAME || ns.len() > MAX_NAME {
        return Err("an element name or namespace is too long".into());
    }
    Ok(Node {
        ns,
        name,
        attrs,
        ..Node::default()
    })
}

/// Reads a request body; `None` for an empty one (a PROPFIND without a body asks for all).
pub fn parse(body: &str) -> Result<Option<Node>, String> {
    if body.trim().is_empty() {
        return Ok(None);
    }
    let mut reader = NsReader::from_str(body);
    let mut stack: Vec<Node> = Vec::new();
    let mut root = None;
    let mut count = 0;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(e) if root.is_none() => {
                let node = element(&ns, &e)?;
                open(&mut stack, &mut root, &mut count, node, false)?;
            }
            Event::Empty(e) if root.is_none() => {
                let node = element(&ns, &e)?;
                open(&mut stack, &mut root, &mut count, node, true)?;
            }
            Event::End(_) => {
                let node = stack.pop().ok_or("unbalanced XML")?;
                close(&mut stack, &mut root, node);
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.into_inner());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(|e| e.to_string())?
                } else {
                    entity(&r)
                };
                if let (Some(top), Some(c)) = (stack.last_mut(), c) {
                    top.text.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("unclosed XML element".into());
    }
    root.map(Some).ok_or_else(|| "no XML element".to_owned())
}

fn open(
    stack: &mut Vec<Node>,
    root: &mut Option<Node>,
    count: &mut usize,
    node: Node,
    empty: bool,
) -> Result<(), String> {
    *count += 1;
    if *count > MAX_NODES || stack.len() >= MAX_DEPTH {
        return Err("the request is too large or too deep".into());
    }
    if empty {
        close(stack, root, node);
    } else {
        stack.push(node);
    }
    Ok(())
}

fn close(stack: &mut [Node], root: &mut Option<Node>, node: Node) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => *root = Some(node),
    }
}

/// A property by namespace and local name.
pub type Prop = (String, String);

/// What a PROPFIND (or a REPORT's `prop`) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Props {
    All,
    Names,
    Some(Vec<Prop>),
}

/// The properties named in `parent`'s `prop` child, or `allprop`/`propname`; all when absent.
pub fn props_of(parent: Option<&Node>) -> Props {
    let Some(parent) = parent else {
        return Props::All;
    };
    if parent.child(DAV, "propname").is_some() {
        return Props::Names;
    }
    match parent.child(DAV, "prop") {
        Some(prop) => {
            // Each property once: a request naming one property 50,000 times gets it once.
            let mut props: Vec<Prop> = Vec::new();
            for c in &prop.children {
                let p = (c.ns.clone(), c.name.clone());
                if !props.contains(&p) {
                    props.push(p);
                }
                if props.len() > MAX_PROPS {
                    break;
                }
            }
            Props::Some(props)
        }
        None => Props::All,
    }
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            // Characters XML 1.0 forbids (a card may carry them): one would make a strict
            // client reject the whole multistatus, so every other contact with it.
            '\t' | '\n' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            _ => out.push(c),
        }
    }
    out
}

fn open_tag(prop: &Prop) -> (String, String) {
    let (ns, name) = (prop.0.as_str(), prop.1.as_str());
    match ns {
        DAV => (format!("d:{name}"), String::new()),
        CARDDAV => (format!("card:{name}"), String::new()),
        CS => (format!("cs:{name}"), String::new()),
        "" => (name.to_owned(), " xmlns=\"\"".to_owned()),
        other => (
            format!("x:{name}"),
            format!(" xmlns:x=\"{}\"", escape(other)),
        ),
    }
}

/// `<prop>value</prop>` (value already XML).
pub fn element_xml(prop: &Prop, inner: &str) -> String {
    let (tag, xmlns) = open_tag(prop);
    if inner.is_empty() {
        format!("<{tag}{xmlns}/>")
    } else {
        format!("<{tag}{xmlns}>{inner}</{tag}>")
    }
}

pub const HEAD: &str = concat!(
    r#"<?xml version="1.0" encoding="utf-8"?>"#,
    "\n",
    r#"<d:multistatus xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/">"#,
    "\n"
);

/// One `<d:response>`: the properties found (name, value as XML) and those not.
pub fn response(href: &str, found: &[(Prop, String)], missing: &[Prop]) -> String {
    let mut out = format!("<d:response><d:href>{}</d:href>", escape(href));
    if !found.is_empty() {
        out.push_str("<d:propstat><d:prop>");
        for (p, v) in found {
            out.push_str(&element_xml(p, v));
        }
        out.push_str("</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>");
    }
    if !missing.is_empty() {
        out.push_str("<d:propstat><d:prop>");
        for p in missing {
            out.push_str(&element_xml(p, ""));
        }
        out.push_str("</d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>");
    }
    out.push_str("</d:response>\n");
    out
}

/// A `<d:response>` that is only a status: a deleted or unknown member.
pub fn status_response(href: &str, status: &str) -> String {
    format!(
        "<d:response><d:href>{}</d:href><d:status>HTTP/1.1 {status}</d:status></d:response>\n",
        escape(href)
    )
}

pub fn tail(sync_token: Option<&str>) -> String {
    match sync_token {
        Some(t) => format!(
            "<d:sync-token>{}</d:sync-token></d:multistatus>\n",
            escape(t)
        ),
        None => "</d:multistatus>\n".into(),
    }
}

/// A WebDAV precondition error body (`<d:error><d:{name}/></d:error>`).
pub fn error_body(ns_prefix_name: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><d:error xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><{ns_prefix_name}/></d:error>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_namespaces_empty_elements_and_entities() {
        let body = r#"<?xml version="1.0"?>
<A:propfind xmlns:A="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">
  <A:prop><A:getetag/><C:address-data></C:address-data><X:odd xmlns:X="urn:x"/></A:prop>
  <A:href>/dav/a&amp;b%20c.vcf</A:href>
</A:propfind>"#;
        let root = parse(body).expect("parses").expect("root");
        assert!(root.is(DAV, "propfind"));
        assert_eq!(
            props_of(Some(&root)),
            Props::Some(vec![
                (DAV.into(), "getetag".into()),
                (CARDDAV.into(), "address-data".into()),
                ("urn:x".into(), "odd".into()),
            ])
        );
        assert_eq!(
            root.child(DAV, "href").expect("href").text,
            "/dav/a&b%20c.vcf"
        );
        assert_eq!(parse("  ").expect("empty"), None);
        assert!(parse("<a><b></a>").is_err());
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(&deep).is_err(), "too deep");
        assert!(
            parse(&format!("<{0}/>", "n".repeat(300))).is_err(),
            "name too long"
        );
    }

    #[test]
    fn escaping_never_writes_a_character_xml_forbids() {
        assert_eq!(
            escape("Bob\u{1}<&>\"\t\n\u{FFFF}"),
            "Bob\u{FFFD}&lt;&amp;&gt;&quot;\t\n\u{FFFD}"
        );
    }
}
