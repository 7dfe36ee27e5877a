//! Generated sample cards for benchmarks: deterministic, so every run measures the same input.

use crate::{Address, Card, Email, Name, Phone, Url};

/// A small deterministic generator so every run parses the same file.
#[derive(Debug)]
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
];
const FIRST: &[&str] = &[
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "Zoë", "José",
];
const LAST: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "García", "Miller", "O'Brien", "Müller",
];
const ORGS: &[&str] = &[
    "名片科技有限公司",
    "Acme, Inc.",
    "北京字节跳动科技有限公司",
    "Globex; Ltd",
    "深圳市腾讯计算机系统有限公司",
    "Initech",
];
const TITLES: &[&str] = &[
    "总经理",
    "Senior Engineer, Platform",
    "市场部经理",
    "CTO",
    "销售总监",
    "Product Designer",
];
const CITIES: &[&str] = &[
    "北京市",
    "上海市",
    "深圳市",
    "San Francisco",
    "London",
    "杭州市",
];

/// `count` varied business cards (half Chinese, half Latin names; company, title, two phones,
/// email, address, URL, a long bilingual note), the same every run.
pub fn cards(count: usize) -> Vec<Card> {
    let mut rng = Lcg(2026);
    let mut cards = Vec::with_capacity(count);
    for i in 0..count {
        let chinese = i % 2 == 0;
        let (family, given) = if chinese {
            (rng.pick(SURNAMES).to_owned(), rng.pick(GIVEN).to_owned())
        } else {
            (rng.pick(LAST).to_owned(), rng.pick(FIRST).to_owned())
        };
        let name = Name {
            family,
            given,
            ..Name::default()
        };
        let mut card = Card {
            formatted_name: name.display(),
            name: Some(name),
            ..Card::default()
        };
        card.org = Some(rng.pick(ORGS).to_owned());
        card.departments = vec!["研发中心".to_owned()];
        card.title = Some(rng.pick(TITLES).to_owned());
        card.phones.push(Phone {
            value: format!(
                "+86 1{:02} {:04} {:04}",
                30 + rng.next() % 60,
                rng.next() % 10_000,
                i
            ),
            kinds: vec!["cell".into()],
            pref: true,
            label: None,
        });
        card.phones.push(Phone {
            value: format!("010-{:08}", rng.next() % 100_000_000),
            kinds: vec!["work".into(), "voice".into()],
            ..Phone::default()
        });
        card.emails.push(Email {
            value: format!("user{i}@example.com"),
            kinds: vec!["work".into()],
            ..Email::default()
        });
        card.addresses.push(Address {
            street: format!(
                "{}号 Building {}, 5th Floor; Suite {}",
                rng.next() % 999,
                rng.next() % 30,
                i % 100
            ),
            locality: rng.pick(CITIES).to_owned(),
            postal_code: format!("{:06}", rng.next() % 1_000_000),
            country: if chinese {
                "中国".into()
            } else {
                "USA".into()
            },
            kinds: vec!["work".into()],
            ..Address::default()
        });
        card.urls.push(Url {
            value: format!("https://example.com/people/{i}"),
            ..Url::default()
        });
        card.note = Some(format!(
            "Met at the 2026 expo, booth {}; follow up re: pricing, samples\n第二行备注：很长的一段中文备注，用来测试折行，逗号，分号；以及换行。{}",
            i % 300,
            "重复内容".repeat((i % 5) + 1)
        ));
        cards.push(card);
    }
    cards
}
