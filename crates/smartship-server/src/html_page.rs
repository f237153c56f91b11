//! The skeleton every HTML page of the server shares — the operator
//! console's and the consent pages an app's administrator sees — written
//! with maud, so that every value a page shows is escaped by the template
//! and never by hand. Each door adds its own head (the console links its
//! stylesheet and script, the consent pages carry a small inline style)
//! and its own body.

use maud::{DOCTYPE, Markup, html};

/// A whole document: `lang` is the BCP 47 tag, `head` what the page adds
/// to the head after the common lines, `body_class` the body's class.
pub fn document(
    lang: &str,
    title: &str,
    head: Markup,
    body_class: Option<&str>,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // No icon: the browser asks for none (and no 404 is logged).
                link rel="icon" href="data:,";
                title { (title) }
                (head)
            }
            body class=[body_class] { (body) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_and_the_body_are_escaped() {
        let page = document(
            "zh-CN",
            "<b>t</b>",
            html! {},
            Some("bare"),
            html! { p { ("<script>x</script>") } },
        )
        .into_string();
        assert!(
            page.starts_with("<!DOCTYPE html><html lang=\"zh-CN\">"),
            "{page}"
        );
        assert!(
            page.contains("<title>&lt;b&gt;t&lt;/b&gt;</title>"),
            "{page}"
        );
        assert!(
            page.contains("<body class=\"bare\"><p>&lt;script&gt;"),
            "{page}"
        );
    }
}
