//! Lines of a card into fields. Each line is claimed by the most specific reading first (email,
//! website, phone numbers with their labels, social IDs), then by what people print on cards
//! (addresses, company suffixes, job titles, departments); the name is what is left that looks
//! like one, preferring the tallest such line.

use mingpian_card::card::is_cjk;
use mingpian_card::{Address, Card, Email, Name, Phone, PhoneNumber, Region, Social, Url};

use crate::ocr::Line;

const TITLE_WORDS: &[&str] = &[
    "经理",
    "总监",
    "总裁",
    "主任",
    "主管",
    "工程师",
    "设计师",
    "董事",
    "总经理",
    "首席",
    "顾问",
    "专员",
    "助理",
    "合伙人",
    "创始人",
    "教授",
    "律师",
    "会计师",
    "医生",
    "部长",
    "秘书",
    "代表",
    "负责人",
    "架构师",
    "manager",
    "director",
    "engineer",
    "president",
    "founder",
    "ceo",
    "cto",
    "cfo",
    "coo",
    "vp",
    "officer",
    "consultant",
    "designer",
    "developer",
    "researcher",
    "analyst",
    "partner",
    "head of",
    "lead",
    "specialist",
    "representative",
    "associate",
    "assistant",
    "architect",
    "professor",
    "attorney",
    "executive",
    "chairman",
    "owner",
    "sales",
    "marketing",
];
const COMPANY_WORDS: &[&str] = &[
    "有限公司",
    "公司",
    "集团",
    "科技",
    "银行",
    "大学",
    "研究院",
    "研究所",
    "事务所",
    "工作室",
    "医院",
    "inc",
    "ltd",
    "llc",
    "gmbh",
    "corp",
    "corporation",
    "company",
    "co.",
    "group",
    "limited",
    "technologies",
    "technology",
    "consulting",
    "bank",
    "university",
    "s.a.",
    "ag",
    "plc",
];
const DEPT_WORDS: &[&str] = &[
    "部",
    "中心",
    "事业群",
    "department",
    "dept",
    "division",
    "team",
    "lab",
];
const ADDRESS_WORDS: &[&str] = &[
    "省",
    "市",
    "区",
    "县",
    "路",
    "街",
    "号",
    "大厦",
    "楼",
    "室",
    "层",
    "园区",
    "street",
    "road",
    "rd.",
    "avenue",
    "ave",
    "suite",
    "floor",
    "blvd",
    "boulevard",
    "drive",
    "lane",
    "way",
    "building",
    "plaza",
    "p.o. box",
];
const HONORIFICS: &[&str] = &["Dr.", "Dr", "Mr.", "Mrs.", "Ms.", "Miss", "Prof.", "Prof"];

/// An address line: Chinese address words, or Latin ones next to a number.
fn is_address(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    if has_word(text, COMPANY_WORDS) && !text.starts_with("地址") {
        return false;
    }
    // Chinese: labelled, or a street word with a house number (市场部 is not an address).
    let cjk_address = text.starts_with("地址")
        || (digits >= 1
            && [
                "省", "市", "区", "县", "路", "街", "号", "大厦", "室", "层", "园区",
            ]
            .iter()
            .any(|w| text.contains(w))
            && text.chars().any(is_cjk));
    cjk_address
        || (digits >= 1 && has_word(text, ADDRESS_WORDS))
        || (digits >= 2 && text.contains(',') && !has_word(text, COMPANY_WORDS))
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn has_word(line: &str, words: &[&str]) -> bool {
    let l = lower(line);
    words.iter().any(|w| {
        if w.is_ascii() {
            // Whole words for Latin ("lead" must not match "leader's"; "Inc." is "inc").
            let w = w.trim_end_matches('.');
            l.split(|c: char| !c.is_alphanumeric() && c != '.')
                .any(|t| t.trim_end_matches('.') == w || (w.contains(' ') && l.contains(w)))
        } else {
            l.contains(w)
        }
    })
}

/// What a phone label says the number is.
fn phone_kind(label: &str) -> Vec<String> {
    let l = lower(label);
    let has = |ws: &[&str]| ws.iter().any(|w| l.contains(w));
    if has(&["fax", "传真", "f:", "f."]) {
        vec!["work".into(), "fax".into()]
    } else if has(&["mob", "cell", "手机", "移动", "m:", "m."]) {
        vec!["cell".into()]
    } else if has(&[
        "tel", "phone", "电话", "座机", "办公", "office", "t:", "t.", "o:", "direct", "main",
    ]) {
        vec!["work".into()]
    } else {
        Vec::new()
    }
}

fn find_email(line: &str) -> Option<String> {
    let cleaned = line.replace(['：', ' '], ":");
    cleaned
        .split([':', ',', ';', '|'])
        .map(str::trim)
        .find(|t| {
            let at = t.find('@');
            at.is_some_and(|i| i > 0 && t[i + 1..].contains('.'))
        })
        .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric()).to_owned())
}

fn find_url(line: &str) -> Option<String> {
    let l = lower(line);
    for token in line.split_whitespace().chain(std::iter::once(line)) {
        let t = lower(token);
        let t = t.trim_start_matches(|c: char| !c.is_alphanumeric());
        if t.contains('@') {
            continue;
        }
        let t = t
            .split_once("网址")
            .map(|(_, r)| r)
            .unwrap_or(t)
            .trim_start_matches(['：', ':', ' ']);
        // The address itself, without a label before it ("网址：www.…", "Web:www.…").
        let lt = lower(token);
        if let Some(start) = lt.find("http").or_else(|| lt.find("www.")) {
            return Some(token[start..].to_owned());
        }
        if !l.contains('@')
            && [".com", ".cn", ".net", ".org", ".io", ".de", ".co"]
                .iter()
                .any(|d| t.ends_with(d) || t.contains(&format!("{d}/")))
            && t.chars().filter(|c| c.is_ascii_digit()).count() < 5
        {
            return Some(token.to_owned());
        }
    }
    None
}

/// Phone numbers in a line, each with the label just before it.
fn find_phones(line: &str, region: Region) -> Vec<Phone> {
    let mut out = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut label_start = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts = c.is_ascii_digit()
            || (c == '+' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
            || (c == '(' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && (chars[j].is_ascii_digit() || " +-().".contains(chars[j])) {
            j += 1;
        }
        let run: String = chars[i..j].iter().collect();
        let digits = run.chars().filter(char::is_ascii_digit).count();
        if (7..=15).contains(&digits)
            && let Ok(n) = PhoneNumber::parse(run.trim(), region)
        {
            let label: String = chars[label_start..i].iter().collect();
            out.push(Phone {
                value: n.e164().to_owned(),
                kinds: phone_kind(&label),
                pref: false,
                label: None,
            });
            label_start = j;
        }
        i = j.max(i + 1);
    }
    out
}

fn find_social(line: &str) -> Option<Social> {
    let l = lower(line);
    let value = |s: &str| {
        s.trim_matches(|c: char| c == ':' || c == '：' || c.is_whitespace())
            .to_owned()
    };
    if let Some(i) = l.find("linkedin.com/") {
        return Some(Social {
            service: "linkedin".into(),
            value: line[i..].trim().to_owned(),
            im: false,
            label: None,
        });
    }
    for key in ["微信", "wechat", "weixin"] {
        if let Some(i) = l.find(key) {
            let rest = &line[i + key.len()..];
            let id = value(rest.trim_start_matches(['号', 'I', 'D', 'i', 'd']));
            if !id.is_empty() {
                return Some(Social {
                    service: "wechat".into(),
                    value: id,
                    im: false,
                    label: None,
                });
            }
        }
    }
    None
}

fn looks_like_name(line: &str) -> bool {
    let t = line.trim();
    let cjk = t.chars().filter(|&c| is_cjk(c)).count();
    if cjk > 0 {
        let all_cjk = t.chars().all(|c| is_cjk(c) || c.is_whitespace());
        return all_cjk && (2..=4).contains(&cjk);
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    (2..=4).contains(&words.len())
        && words.iter().all(|w| {
            w.chars().next().is_some_and(char::is_uppercase)
                && w.chars()
                    .all(|c| c.is_alphabetic() || c == '.' || c == '-' || c == '\'')
        })
}

/// Builds a draft card from OCR lines (one side, or both sides' lines together): the lines
/// that are unmistakable (emails, links, numbers) first, then addresses, then company, title,
/// department and name among what is left.
pub fn card_from_lines(lines: &[Line], region: Region) -> Card {
    let lines = &one_script(lines);
    let mut card = Card::default();
    let rest = take_contact_lines(lines, region, &mut card);
    let others = take_address_lines(&rest, &mut card);
    let names = take_words_lines(&others, &mut card);
    name_from(&names, &mut card);
    card
}

/// Emails, social profiles, websites and phone numbers; the lines that are none of them.
fn take_contact_lines<'a>(lines: &'a [Line], region: Region, card: &mut Card) -> Vec<&'a Line> {
    let mut rest = Vec::new();
    for line in lines {
        let text = line.text.trim();
        let mut claimed = false;
        if let Some(e) = find_email(text) {
            if !card.emails.iter().any(|x| x.value == e) {
                card.emails.push(Email {
                    value: e,
                    kinds: vec!["work".into()],
                    pref: false,
                    label: None,
                });
            }
            claimed = true;
        }
        if let Some(s) = find_social(text) {
            card.socials.push(s);
            claimed = true;
        } else if !claimed && let Some(u) = find_url(text) {
            card.urls.push(Url {
                value: u,
                kinds: vec!["work".into()],
                label: None,
            });
            claimed = true;
        }
        if !claimed && !is_address(text) {
            let phones = find_phones(text, region);
            if !phones.is_empty() {
                for p in phones {
                    if !card.phones.iter().any(|x| x.value == p.value) {
                        card.phones.push(p);
                    }
                }
                claimed = true;
            }
        }
        if !claimed {
            rest.push(line);
        }
    }
    rest
}

/// Address lines, joined into one address; the lines that are not.
fn take_address_lines<'a>(rest: &[&'a Line], card: &mut Card) -> Vec<&'a Line> {
    let mut address_parts: Vec<String> = Vec::new();
    let mut others = Vec::new();
    for line in rest {
        let text = line.text.trim();
        if is_address(text) {
            let mut t = text;
            for prefix in ["地址", "Address", "：", ":"] {
                t = t.strip_prefix(prefix).unwrap_or(t).trim_start();
            }
            address_parts.push(t.to_owned());
        } else {
            others.push(*line);
        }
    }
    if !address_parts.is_empty() {
        card.addresses.push(Address {
            street: address_parts.join(", "),
            kinds: vec!["work".into()],
            ..Address::default()
        });
    }
    others
}

/// The domains of the card's emails and websites (`contoso.com`).
fn domains(card: &Card) -> Vec<String> {
    card.emails
        .iter()
        .filter_map(|e| e.value.split('@').nth(1).map(str::to_owned))
        .chain(card.urls.iter().map(|u| {
            let v = lower(&u.value);
            let v = v
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_start_matches("www.");
            v.split('/').next().unwrap_or_default().to_owned()
        }))
        .map(|d| lower(&d))
        .collect()
}

/// Company, title and department by their words (a line that spells the email's or website's
/// domain is the company: "Contoso"); the lines that look like names.
fn take_words_lines<'a>(others: &[&'a Line], card: &mut Card) -> Vec<&'a Line> {
    let domains = domains(card);
    let spells_domain = |text: &str| {
        let key: String = lower(text)
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        key.len() >= 3
            && domains
                .iter()
                .any(|d| d.split('.').next().is_some_and(|host| host.contains(&key)))
    };
    let mut names = Vec::new();
    let mut org_line: Option<usize> = None;
    for (i, line) in others.iter().enumerate() {
        let text = line.text.trim();
        if card.org.is_some()
            && org_line == Some(i.wrapping_sub(1))
            && has_word(text, COMPANY_WORDS)
        {
            // The company's name continued on the next line ("RemoteGlobal / BUSINESS CONSULTING").
            let org = card.org.take().unwrap_or_default();
            card.org = Some(format!("{org} {text}"));
        } else if card.org.is_none() && (has_word(text, COMPANY_WORDS) || spells_domain(text)) {
            card.org = Some(text.to_owned());
            org_line = Some(i);
        } else if card.title.is_none() && has_word(text, TITLE_WORDS) {
            card.title = Some(text.to_owned());
        } else if has_word(text, DEPT_WORDS) {
            card.departments.push(text.to_owned());
        } else if looks_like_name(text) {
            names.push(*line);
        } else if card.org.is_none()
            && text.chars().all(|c| !c.is_lowercase())
            && text.chars().filter(|c| c.is_alphabetic()).count() >= 3
        {
            // Company names are often printed in capitals (CONTOSO).
            card.org = Some(text.to_owned());
            org_line = Some(i);
        }
    }
    names
}

/// The name: the tallest line that looks like one (an honorific goes to the prefix); a name in
/// another script is the phonetic one.
fn name_from(names: &[&Line], card: &mut Card) {
    let mut names = names.to_vec();
    names.sort_by_key(|l| std::cmp::Reverse(l.height));
    let Some(first) = names.first() else {
        return;
    };
    let mut full = first.text.trim();
    let mut prefix = String::new();
    for h in HONORIFICS {
        if let Some(rest) = full.strip_prefix(h).filter(|r| r.starts_with(' ')) {
            prefix = (*h).to_owned();
            full = rest.trim_start();
            break;
        }
    }
    card.formatted_name = full.to_owned();
    if !prefix.is_empty() {
        card.name = Some(Name {
            prefixes: prefix,
            ..family_last(full)
        });
    }
    let first_cjk = first.text.chars().any(is_cjk);
    if let Some(other) = names
        .iter()
        .skip(1)
        .find(|l| l.text.chars().any(is_cjk) != first_cjk)
    {
        card.phonetic = Some(family_last(other.text.trim()));
    }
}

/// A Western-order name: the last word is the family name (`Avery Smith`).
fn family_last(full: &str) -> Name {
    let mut words = full.rsplitn(2, ' ');
    let family = words.next().unwrap_or_default().to_owned();
    let given = words.next().unwrap_or_default().to_owned();
    Name {
        family,
        given,
        ..Name::default()
    }
}

/// Traditional forms the recognizer sometimes reads for simplified characters (large bold names
/// above all), for characters common in names and titles: (traditional, simplified).
#[rustfmt::skip]
const TRADITIONAL: &[(char, char)] = &[
    ('黃', '黄'), ('靜', '静'), ('強', '强'), ('張', '张'), ('陳', '陈'), ('劉', '刘'),
    ('楊', '杨'), ('趙', '赵'), ('吳', '吴'), ('孫', '孙'), ('馬', '马'), ('羅', '罗'),
    ('鄭', '郑'), ('謝', '谢'), ('許', '许'), ('韓', '韩'), ('馮', '冯'), ('鄧', '邓'),
    ('蕭', '萧'), ('葉', '叶'), ('蘇', '苏'), ('盧', '卢'), ('蔣', '蒋'), ('龍', '龙'),
    ('華', '华'), ('麗', '丽'), ('偉', '伟'), ('軍', '军'), ('傑', '杰'), ('濤', '涛'),
    ('艷', '艳'), ('豔', '艳'), ('東', '东'), ('國', '国'), ('紅', '红'), ('雲', '云'),
    ('曉', '晓'), ('鳳', '凤'), ('蘭', '兰'), ('寶', '宝'), ('榮', '荣'), ('輝', '辉'),
    ('興', '兴'), ('貴', '贵'), ('鵬', '鹏'), ('瑩', '莹'), ('潔', '洁'), ('穎', '颖'),
    ('經', '经'), ('總', '总'), ('監', '监'), ('師', '师'), ('務', '务'), ('術', '术'),
    ('長', '长'), ('銷', '销'), ('產', '产'), ('發', '发'), ('財', '财'), ('場', '场'),
];

/// Characters only simplified Chinese writes (traditional has other forms), common on cards.
const SIMPLIFIED_ONLY: &str = "经总监师务术长销产发财场电话邮区机传网际级项计统业门";

/// A card printed in simplified Chinese does not switch to traditional for one line: when the
/// other lines are simplified, a traditional form the recognizer read becomes the simplified one.
/// (A card printed in traditional characters has none of the simplified-only ones, and is kept.)
fn one_script(lines: &[Line]) -> Vec<Line> {
    let simplified = lines
        .iter()
        .flat_map(|l| l.text.chars())
        .filter(|c| SIMPLIFIED_ONLY.contains(*c))
        .count();
    let traditional_lines = lines
        .iter()
        .filter(|l| {
            l.text
                .chars()
                .any(|c| TRADITIONAL.iter().any(|(t, _)| *t == c))
        })
        .count();
    if simplified < 3 || traditional_lines * 3 > lines.len() {
        return lines.to_vec();
    }
    lines
        .iter()
        .map(|l| Line {
            text: l
                .text
                .chars()
                .map(|c| {
                    TRADITIONAL
                        .iter()
                        .find(|(t, _)| *t == c)
                        .map_or(c, |(_, s)| *s)
                })
                .collect(),
            ..l.clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(texts: &[(&str, u32)]) -> Vec<Line> {
        texts
            .iter()
            .enumerate()
            .map(|(i, (t, h))| Line {
                text: (*t).into(),
                x: 10,
                y: i as u32 * 40,
                width: 200,
                height: *h,
                confidence: 1.0,
            })
            .collect()
    }

    #[test]
    fn a_traditional_form_on_a_simplified_card_is_read_as_simplified() {
        let simplified = card_from_lines(
            &lines(&[
                ("上海名片科技有限公司", 20),
                ("黃海燕", 40),
                ("产品经理", 18),
                ("手机：138 0013 8000", 16),
                ("地址：上海市浦东新区世纪大道663号", 16),
            ]),
            Region::parse("CN").unwrap(),
        );
        assert_eq!(simplified.formatted_name, "黄海燕");
        // A card printed in traditional characters keeps them.
        let traditional = card_from_lines(
            &lines(&[
                ("黃大文", 40),
                ("產品經理", 18),
                ("電話：(02) 2345 6789", 16),
                ("地址：台北市信義區信義路五段7號", 16),
            ]),
            Region::parse("TW").unwrap(),
        );
        assert_eq!(traditional.formatted_name, "黃大文");
    }

    #[test]
    fn a_chinese_card_with_an_english_name() {
        let card = card_from_lines(
            &lines(&[
                ("华为技术有限公司", 20),
                ("张伟", 40),
                ("Zhang Wei", 18),
                ("终端BG 产品部", 16),
                ("高级产品经理", 18),
                ("手机：138 0013 8000", 16),
                ("电话：010-6288 0000 传真：010-6288 0001", 16),
                ("邮箱：zhang.wei@huawei.example", 16),
                ("微信：zhangwei_88", 16),
                ("地址：北京市海淀区中关村大街1号", 16),
            ]),
            Region::parse("CN").unwrap(),
        );
        assert_eq!(card.formatted_name, "张伟", "the tallest name-like line");
        assert_eq!(
            card.phonetic.as_ref().map(|n| n.family.as_str()),
            Some("Wei")
        );
        assert_eq!(card.org.as_deref(), Some("华为技术有限公司"));
        assert_eq!(card.title.as_deref(), Some("高级产品经理"));
        assert_eq!(card.departments, ["终端BG 产品部"]);
        let phones: Vec<(&str, Vec<String>)> = card
            .phones
            .iter()
            .map(|p| (p.value.as_str(), p.kinds.clone()))
            .collect();
        assert_eq!(
            phones,
            vec![
                ("+8613800138000", vec!["cell".to_owned()]),
                ("+861062880000", vec!["work".to_owned()]),
                ("+861062880001", vec!["work".to_owned(), "fax".to_owned()]),
            ],
            "each number with the label before it"
        );
        assert_eq!(card.emails[0].value, "zhang.wei@huawei.example");
        assert_eq!(card.socials[0].service, "wechat");
        assert_eq!(card.socials[0].value, "zhangwei_88");
        assert_eq!(card.addresses[0].street, "北京市海淀区中关村大街1号");
    }
}
