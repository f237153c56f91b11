//! The console's two languages: Chinese by default (like the API's
//! messages), English when the `smartship_lang` cookie says `en`. Labels
//! are written at their use as a pair, `l.t("中文", "English")`, so a page
//! reads in both languages at once and none can be missing.

use axum::http::HeaderMap;

pub const LANG_COOKIE: &str = "smartship_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// The language a request's cookie chose.
    pub fn of(headers: &HeaderMap) -> Lang {
        match super::cookies::cookie(headers, LANG_COOKIE) {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    pub fn t(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The `lang` attribute of the page.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// A duration in seconds, coarsely ("3 小时" / "3 h").
    pub fn duration(self, secs: i64) -> String {
        let secs = secs.max(0);
        let (n, zh, en) = match secs {
            s if s < 60 => (s, "秒", "s"),
            s if s < 3600 => (s / 60, "分钟", "min"),
            s if s < 86_400 => (s / 3600, "小时", "h"),
            s => (s / 86_400, "天", "d"),
        };
        match self {
            Lang::Zh => format!("{n} {zh}"),
            Lang::En => format!("{n} {en}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_both_languages() {
        assert_eq!(Lang::Zh.duration(59), "59 秒");
        assert_eq!(Lang::En.duration(7200), "2 h");
        assert_eq!(Lang::Zh.duration(3 * 86_400 + 5), "3 天");
        assert_eq!(Lang::En.duration(-4), "0 s");
    }
}
