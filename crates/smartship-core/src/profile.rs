//! The app's basic information (name, icon, description, service
//! categories) and the rules its changes pass before an operator reviews
//! them (SPEC §2): lengths counted the public platform's way, words that
//! are refused or need qualification material, the category catalogue,
//! yearly modification quotas, and when basic information counts as
//! approved.

use serde::{Deserialize, Serialize};

/// A field of basic information that is changed through an examination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// `app/setnicknamewithqual`.
    Name,
    /// `app/modifyheadimage`.
    Photo,
    /// `app/modifysignature` (the description).
    Signature,
    /// `app/category/update`.
    Category,
    /// `app/offline/update`: the corrected information of an app taken
    /// offline, whose approval restores its service.
    Restore,
    /// The operator's shortcut (`basic_info_approved` on an app): approves
    /// (or withdraws that approval of) the basic information as a whole,
    /// for tests and demos. Recorded like any examination, already decided.
    BasicInfo,
}

impl Field {
    pub const ALL: [Field; 6] = [
        Field::Name,
        Field::Photo,
        Field::Signature,
        Field::Category,
        Field::Restore,
        Field::BasicInfo,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Photo => "photo",
            Field::Signature => "signature",
            Field::Category => "category",
            Field::Restore => "restore",
            Field::BasicInfo => "basic_info",
        }
    }

    pub fn parse(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// How many changes of the field a calendar year (UTC) allows; None
    /// for fields without a quota.
    pub const fn yearly_quota(self) -> Option<i64> {
        match self {
            Field::Name => Some(NAME_QUOTA),
            Field::Photo => Some(PHOTO_QUOTA),
            Field::Signature => Some(SIGNATURE_QUOTA),
            Field::Category => Some(CATEGORY_QUOTA),
            Field::Restore | Field::BasicInfo => None,
        }
    }
}

/// Yearly quotas: every submitted change counts, whatever its review.
pub const NAME_QUOTA: i64 = 2;
pub const PHOTO_QUOTA: i64 = 5;
pub const SIGNATURE_QUOTA: i64 = 5;
pub const CATEGORY_QUOTA: i64 = 3;

/// Where an examination stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExamStatus {
    Pending,
    Passed,
    Failed,
}

impl ExamStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ExamStatus::Pending => "pending",
            ExamStatus::Passed => "passed",
            ExamStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<ExamStatus> {
        [ExamStatus::Pending, ExamStatus::Passed, ExamStatus::Failed]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// The public platform's audit numbering (`audit_*_status`,
    /// `category[].audit_status`): 1 under review, 2 passed, 3 failed.
    pub const fn wire(self) -> i64 {
        match self {
            ExamStatus::Pending => 1,
            ExamStatus::Passed => 2,
            ExamStatus::Failed => 3,
        }
    }
}

/// The display width the public platform limits: a character outside
/// ASCII (a Chinese character, a full-width sign) counts two, any other
/// one.
pub fn width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

pub const NAME_MIN_WIDTH: usize = 4;
pub const NAME_MAX_WIDTH: usize = 30;
pub const SIGNATURE_MIN_WIDTH: usize = 10;
pub const SIGNATURE_MAX_WIDTH: usize = 56;

/// Why a text field is refused before any review: the message names the
/// rule, the caller names the parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextRefusal {
    #[error("不能为空")]
    Empty,
    #[error("长度为 {width}（中文字符计 2），须在 {min} 到 {max} 之间")]
    Width {
        width: usize,
        min: usize,
        max: usize,
    },
    #[error("不能包含控制字符、不可见的格式字符或首尾空白")]
    Characters,
}

fn check_text(s: &str, min: usize, max: usize) -> Result<(), TextRefusal> {
    if s.is_empty() {
        return Err(TextRefusal::Empty);
    }
    if s.trim() != s || s.chars().any(|c| c.is_control() || is_invisible(c)) {
        return Err(TextRefusal::Characters);
    }
    let w = width(s);
    if w < min || w > max {
        return Err(TextRefusal::Width { width: w, min, max });
    }
    Ok(())
}

/// Characters that change how text reads without showing: zero-width
/// spaces and joiners, direction marks and overrides, the byte-order mark,
/// the soft hyphen. A name with them could pass for another (`最\u{200b}佳`
/// reads as a forbidden word that the word check would not see).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{034f}' | '\u{061c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}'
        | '\u{ffa0}' | '\u{fff0}'..='\u{fffb}')
}

/// The one form names and words are compared in, so that a name that
/// looks like another is the same name: compatibility forms as their
/// plain letters (NFKC: `ＳＨＯＰ`, `𝐬`), case folded, every character
/// that is not a letter or a digit removed (spaces of any kind, `.`, `_`,
/// `-`, U+2800 and other blank-looking signs), and each remaining letter
/// replaced by the prototype of its confusables (the UTS #39 skeleton:
/// a Cyrillic `а` is a Latin `a`, `0` is `o`). `Shop Alpha`, `SHOPALPHA`,
/// `ＳＨＯＰ alpha`, `Shop\u{a0}Alpha` and `Shop Аlpha` fold alike.
pub fn name_key(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let plain: String = s.nfkc().flat_map(char::to_lowercase).collect();
    unicode_security::skeleton(&plain)
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .nfc()
        .collect()
}

/// An app name's length and characters.
pub fn check_name_text(name: &str) -> Result<(), TextRefusal> {
    check_text(name, NAME_MIN_WIDTH, NAME_MAX_WIDTH)
}

/// A description's (`signature`) length and characters: 10 to 56, a
/// Chinese character counting two.
pub fn check_signature(signature: &str) -> Result<(), TextRefusal> {
    check_text(signature, SIGNATURE_MIN_WIDTH, SIGNATURE_MAX_WIDTH)
}

/// Words no name may contain: claims the advertising law forbids and
/// words that impersonate the platform.
pub const FORBIDDEN_WORDS: &[&str] = &["最佳", "第一", "国家级", "官方认证", "小程序", "smartship"];

/// Brand words a name may contain only with qualification material (a
/// trademark certificate or an authorization, uploaded as `type` 3
/// images and passed as `qual_materials`).
pub const BRAND_WORDS: &[&str] = &["百度", "微信", "支付宝", "淘宝", "京东", "抖音", "中国"];

/// `checkResult` of `app/checknamewithqual`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameVerdict {
    /// The name may be set.
    Available,
    /// It contains brand words: it may be set with qualification material.
    NeedsQualification,
    /// It contains a forbidden word.
    Forbidden,
    /// Another app has it (approved or under review).
    Taken,
}

impl NameVerdict {
    pub const fn wire(self) -> i64 {
        match self {
            NameVerdict::Available => 0,
            NameVerdict::NeedsQualification => 1,
            NameVerdict::Forbidden => 2,
            NameVerdict::Taken => 3,
        }
    }
}

/// Qualification material fields (`requiredFields`, `optionalFields`):
/// 1 trademark registration certificate, 2 brand authorization letter.
pub const QUAL_TRADEMARK: i64 = 1;
pub const QUAL_AUTHORIZATION: i64 = 2;

/// The words of `name` that need qualification and those that are
/// forbidden, compared in their [`name_key`] form.
pub fn words_in(name: &str) -> (Vec<&'static str>, Vec<&'static str>) {
    let folded = name_key(name);
    let hit = |words: &[&'static str]| {
        words
            .iter()
            .copied()
            .filter(|w| folded.contains(&name_key(w)))
            .collect::<Vec<_>>()
    };
    (hit(BRAND_WORDS), hit(FORBIDDEN_WORDS))
}

/// A name's verdict from its words, whether another app holds it and
/// whether qualification material comes with it.
pub fn name_verdict(
    name: &str,
    taken: bool,
    has_material: bool,
) -> (NameVerdict, Vec<&'static str>) {
    let (brands, forbidden) = words_in(name);
    if !forbidden.is_empty() {
        return (NameVerdict::Forbidden, forbidden);
    }
    if taken {
        return (NameVerdict::Taken, Vec::new());
    }
    if !brands.is_empty() && !has_material {
        return (NameVerdict::NeedsQualification, brands);
    }
    (NameVerdict::Available, brands)
}

/// One service category of the catalogue (`app/category/list`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category {
    pub id: i64,
    /// The parent's id; 0 for a top-level category.
    pub parent: i64,
    pub name: &'static str,
    /// 1 open to personal and enterprise subjects, 2 enterprise only.
    pub category_type: i64,
    /// What qualification material it needs; empty when none.
    pub quali: &'static str,
}

impl Category {
    pub fn needs_quali(&self) -> bool {
        !self.quali.is_empty()
    }
}

const fn top(id: i64, name: &'static str, category_type: i64) -> Category {
    Category {
        id,
        parent: 0,
        name,
        category_type,
        quali: "",
    }
}

const fn sub(
    id: i64,
    parent: i64,
    name: &'static str,
    category_type: i64,
    quali: &'static str,
) -> Category {
    Category {
        id,
        parent,
        name,
        category_type,
        quali,
    }
}

/// The catalogue. Ids are part of the contract: never renumber, only add.
pub const CATEGORIES: &[Category] = &[
    top(1, "工具", 1),
    sub(101, 1, "效率", 1, ""),
    sub(102, 1, "天气", 1, ""),
    sub(103, 1, "计算器", 1, ""),
    top(2, "生活服务", 1),
    sub(201, 2, "家政", 2, ""),
    sub(202, 2, "丽人", 2, ""),
    sub(203, 2, "外卖", 2, "《食品经营许可证》"),
    top(3, "商业服务", 2),
    sub(301, 3, "企业管理", 2, ""),
    sub(302, 3, "法律服务", 2, "《律师事务所执业许可证》"),
    top(4, "教育", 1),
    sub(401, 4, "在线教育", 2, "《办学许可证》或在线教育备案"),
    sub(402, 4, "教育信息", 1, ""),
    top(5, "电商", 2),
    sub(501, 5, "综合电商", 2, "《增值电信业务经营许可证》"),
    sub(502, 5, "品牌官网", 2, ""),
    top(6, "餐饮", 2),
    sub(601, 6, "点餐", 2, ""),
    sub(602, 6, "餐厅预订", 2, ""),
];

/// The category with this id.
pub fn category(id: i64) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.id == id)
}

/// How many categories an app may have.
pub const MAX_CATEGORIES: usize = 3;

/// One category an app asks for, with its qualification images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryChoice {
    pub category_id: i64,
    /// Comma-separated image URLs (`type` 2 uploads); empty when none.
    #[serde(default)]
    pub category_quali: String,
}

/// Why a `categorys` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CategoryRefusal {
    #[error("须为 JSON 数组 [{{\"category_id\":101}}] 或逗号分隔的类目 id")]
    Malformed,
    #[error("至少选择 1 个、至多 {MAX_CATEGORIES} 个类目")]
    Count,
    #[error("类目 {0} 不存在或不是二级类目")]
    Unknown(i64),
    #[error("类目 {0} 重复")]
    Duplicate(i64),
    #[error("类目 {0} 需要资质材料 category_quali")]
    NeedsQuali(i64),
}

/// Parses `categorys`: a JSON array of `{"category_id", "category_quali"}`
/// or a comma-separated list of ids. Every id is a second-level category
/// of the catalogue, none twice, one to [`MAX_CATEGORIES`] of them, and
/// those that need qualification come with it.
pub fn parse_categories(raw: &str) -> Result<Vec<CategoryChoice>, CategoryRefusal> {
    let raw = raw.trim();
    let choices: Vec<CategoryChoice> = if raw.starts_with('[') {
        serde_json::from_str(raw).map_err(|_| CategoryRefusal::Malformed)?
    } else {
        raw.split(',')
            .map(|id| {
                id.trim()
                    .parse::<i64>()
                    .map(|category_id| CategoryChoice {
                        category_id,
                        category_quali: String::new(),
                    })
                    .map_err(|_| CategoryRefusal::Malformed)
            })
            .collect::<Result<_, _>>()?
    };
    if choices.is_empty() || choices.len() > MAX_CATEGORIES {
        return Err(CategoryRefusal::Count);
    }
    let mut seen = Vec::new();
    for c in &choices {
        let Some(cat) = category(c.category_id).filter(|cat| cat.parent != 0) else {
            return Err(CategoryRefusal::Unknown(c.category_id));
        };
        if seen.contains(&c.category_id) {
            return Err(CategoryRefusal::Duplicate(c.category_id));
        }
        seen.push(c.category_id);
        if cat.needs_quali() && c.category_quali.trim().is_empty() {
            return Err(CategoryRefusal::NeedsQuali(c.category_id));
        }
    }
    Ok(choices)
}

/// What decides whether basic information is approved: the approved
/// value of each field (what passed review last) and the operator's
/// shortcut.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approvals {
    pub name: bool,
    pub photo: bool,
    pub signature: bool,
    /// Approved categories (at least one is needed).
    pub categories: usize,
    /// The operator's newest shortcut decision: Some(true) approved.
    pub shortcut: Option<bool>,
}

impl Approvals {
    /// "Basic info approved" (the `submitaudit` precondition): name, icon,
    /// description and at least one category passed review, or the
    /// operator's newest shortcut approved it.
    pub fn approved(&self) -> bool {
        (self.name && self.photo && self.signature && self.categories > 0)
            || self.shortcut == Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_characters_count_two() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("小程序"), 6);
        // 5 Chinese characters = 10: the shortest description allowed.
        assert!(check_signature("一二三四五").is_ok());
        assert!(matches!(
            check_signature("一二三四"),
            Err(TextRefusal::Width { width: 8, .. })
        ));
        assert!(check_signature(&"a".repeat(56)).is_ok());
        assert!(check_signature(&"a".repeat(57)).is_err());
        assert!(check_signature(&"好".repeat(29)).is_err());
        assert!(check_name_text(" name").is_err());
        assert!(check_name_text("ab").is_err());
        assert!(check_name_text("小店").is_ok());
    }

    #[test]
    fn words_decide_the_verdict() {
        assert_eq!(
            name_verdict("好吃小店", false, false).0,
            NameVerdict::Available
        );
        assert_eq!(
            name_verdict("百度好店", false, false),
            (NameVerdict::NeedsQualification, vec!["百度"])
        );
        assert_eq!(
            name_verdict("百度好店", false, true).0,
            NameVerdict::Available
        );
        assert_eq!(
            name_verdict("第一好店", false, true).0,
            NameVerdict::Forbidden
        );
        assert_eq!(
            name_verdict("SmartShip店", false, false).0,
            NameVerdict::Forbidden
        );
        assert_eq!(name_verdict("好吃小店", true, false).0, NameVerdict::Taken);
        // Full-width letters and spaces do not hide a word.
        assert_eq!(
            name_verdict("ＳｍａｒｔＳｈｉｐ店", false, false).0,
            NameVerdict::Forbidden
        );
        assert_eq!(
            name_verdict("百 度好店", false, false).0,
            NameVerdict::NeedsQualification
        );
        // Invisible characters are refused before any word is looked for.
        assert_eq!(
            check_name_text("最\u{200b}佳小店"),
            Err(TextRefusal::Characters)
        );
        assert_eq!(
            check_name_text("百\u{202e}度小店"),
            Err(TextRefusal::Characters)
        );
        assert_eq!(
            check_name_text("好吃\u{2028}小店"),
            Err(TextRefusal::Characters)
        );
    }

    #[test]
    fn look_alike_names_fold_alike() {
        let key = name_key("Shop Alpha");
        assert_eq!(key, "shopalpha");
        for other in [
            "SHOPALPHA",
            "ＳＨＯＰ alpha",
            "Shop\u{a0}Alpha",
            "Shop \u{410}lpha",
            "Shop \u{430}lpha",
            "Sh0p Alpha",
            "Shop_Alpha",
            "Shop-Alpha",
            "𝐒𝐡𝐨𝐩 𝐀𝐥𝐩𝐡𝐚",
        ] {
            assert_eq!(name_key(other), key, "{other:?}");
        }
        assert_ne!(name_key("Shop Beta"), key);
        // A key is its own key: a stored claim folds to itself.
        for name in ["Sh0p Ａlpha", "最佳小店", "rn m 1 l I"] {
            assert_eq!(name_key(&name_key(name)), name_key(name), "{name:?}");
        }
        assert_eq!(name_key("好吃 小店"), "好吃小店");
    }

    #[test]
    fn forbidden_words_are_found_in_any_disguise() {
        for name in [
            "Sm\u{430}rtship店",
            "𝐬martship店",
            "最.佳小店",
            "最_佳小店",
            "最\u{2800}佳小店",
            "最 佳小店",
            "ＳＭＡＲＴＳＨＩＰ店",
        ] {
            assert_eq!(
                name_verdict(name, false, false).0,
                NameVerdict::Forbidden,
                "{name:?}"
            );
        }
    }

    #[test]
    fn categories_are_checked_against_the_catalogue() {
        assert_eq!(parse_categories("101, 102").unwrap().len(), 2);
        assert_eq!(
            parse_categories(r#"[{"category_id":203,"category_quali":"https://x/a.png"}]"#)
                .unwrap()[0]
                .category_id,
            203
        );
        assert_eq!(parse_categories("1"), Err(CategoryRefusal::Unknown(1)));
        assert_eq!(parse_categories("999"), Err(CategoryRefusal::Unknown(999)));
        assert_eq!(
            parse_categories("101,101"),
            Err(CategoryRefusal::Duplicate(101))
        );
        assert_eq!(
            parse_categories("203"),
            Err(CategoryRefusal::NeedsQuali(203))
        );
        assert_eq!(
            parse_categories("101,102,103,402"),
            Err(CategoryRefusal::Count)
        );
        assert_eq!(parse_categories("x"), Err(CategoryRefusal::Malformed));
        for c in CATEGORIES.iter().filter(|c| c.parent != 0) {
            assert!(category(c.parent).is_some_and(|p| p.parent == 0), "{c:?}");
        }
    }

    #[test]
    fn approval_needs_every_field_or_the_shortcut() {
        let mut a = Approvals {
            name: true,
            photo: true,
            signature: true,
            categories: 0,
            shortcut: None,
        };
        assert!(!a.approved());
        a.categories = 1;
        assert!(a.approved());
        a.name = false;
        assert!(!a.approved());
        a.shortcut = Some(true);
        assert!(a.approved());
        a.shortcut = Some(false);
        assert!(!a.approved());
    }
}
