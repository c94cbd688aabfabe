//! Pagination and page merging, on plain data: the SDK-facing code hands each page over as a
//! [`Page`], so the merging logic is tested with canned multi-page responses (the emulator never
//! paginates).

use std::collections::BTreeMap;
use std::future::Future;

use serde_json::Value;

/// One page of a paginated describe call: its objects and the token of the next page.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// Why paging stopped early.
#[derive(Debug, thiserror::Error)]
pub enum PageError<E> {
    #[error(transparent)]
    Call(E),
    /// The service handed back a token it had already given: following it would loop forever.
    #[error("the service repeated the pagination token after {pages} page(s)")]
    RepeatedToken { pages: usize },
}

/// Calls `fetch` with no token, then with each `next_token` until there is none (an empty token
/// counts as none), and returns every page's items in order with the number of pages.
pub async fn paginate<T, E, F, Fut>(mut fetch: F) -> Result<(Vec<T>, usize), PageError<E>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, E>>,
{
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    let mut seen = std::collections::BTreeSet::new();
    let mut pages = 0;
    loop {
        let page = fetch(token.take()).await.map_err(PageError::Call)?;
        pages += 1;
        items.extend(page.items);
        match page.next_token.filter(|t| !t.is_empty()) {
            None => return Ok((items, pages)),
            Some(t) => {
                if !seen.insert(t.clone()) {
                    return Err(PageError::RepeatedToken { pages });
                }
                token = Some(t);
            }
        }
    }
}

/// Merges the objects of all pages into one list sorted by `id_key`, one object per id: an
/// object that moved between pages while paging (AWS pages are not a consistent snapshot) is
/// kept once, the last copy winning. Objects without the id keep their order, after the rest.
pub fn merge_by_id(items: Vec<Value>, id_key: &str) -> Vec<Value> {
    let mut by_id: BTreeMap<String, Value> = BTreeMap::new();
    let mut anonymous = Vec::new();
    for item in items {
        match item.get(id_key).and_then(Value::as_str) {
            Some(id) => {
                by_id.insert(id.to_owned(), item);
            }
            None => anonymous.push(item),
        }
    }
    by_id.into_values().chain(anonymous).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Serves canned pages keyed by the token that asks for them.
    fn canned(
        pages: Vec<(Option<&'static str>, Page<Value>)>,
    ) -> impl FnMut(Option<String>) -> std::future::Ready<Result<Page<Value>, String>> {
        let pages: BTreeMap<Option<String>, Page<Value>> = pages
            .into_iter()
            .map(|(k, v)| (k.map(str::to_owned), v))
            .collect();
        move |token| {
            std::future::ready(
                pages
                    .get(&token)
                    .cloned()
                    .ok_or_else(|| format!("unknown token {token:?}")),
            )
        }
    }

    fn block<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn three_pages_are_merged_sorted_by_id() {
        let fetch = canned(vec![
            (
                None,
                Page {
                    items: vec![json!({"VpcId": "vpc-3"}), json!({"VpcId": "vpc-1"})],
                    next_token: Some("t1".into()),
                },
            ),
            (
                Some("t1"),
                Page {
                    items: vec![json!({"VpcId": "vpc-2"})],
                    next_token: Some("t2".into()),
                },
            ),
            (
                Some("t2"),
                Page {
                    items: vec![json!({"VpcId": "vpc-0"})],
                    next_token: Some(String::new()),
                },
            ),
        ]);
        let (items, pages) = block(paginate(fetch)).unwrap();
        assert_eq!(pages, 3);
        let ids: Vec<_> = merge_by_id(items, "VpcId")
            .iter()
            .map(|v| v["VpcId"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids, ["vpc-0", "vpc-1", "vpc-2", "vpc-3"]);
    }

    #[test]
    fn an_object_seen_on_two_pages_is_kept_once() {
        let merged = merge_by_id(
            vec![
                json!({"GroupId": "sg-1", "v": 1}),
                json!({"GroupId": "sg-2"}),
                json!({"GroupId": "sg-1", "v": 2}),
            ],
            "GroupId",
        );
        assert_eq!(
            merged,
            vec![
                json!({"GroupId": "sg-1", "v": 2}),
                json!({"GroupId": "sg-2"})
            ]
        );
    }

    #[test]
    fn a_repeated_token_stops_instead_of_looping() {
        let fetch = canned(vec![
            (
                None,
                Page {
                    items: vec![json!(1)],
                    next_token: Some("t".into()),
                },
            ),
            (
                Some("t"),
                Page {
                    items: vec![json!(2)],
                    next_token: Some("t".into()),
                },
            ),
        ]);
        assert!(matches!(
            block(paginate(fetch)),
            Err(PageError::RepeatedToken { pages: 2 })
        ));
    }

    #[test]
    fn an_error_on_a_later_page_fails_the_whole_call() {
        let fetch = canned(vec![(
            None,
            Page {
                items: vec![json!(1)],
                next_token: Some("missing".into()),
            },
        )]);
        assert!(matches!(block(paginate(fetch)), Err(PageError::Call(_))));
    }
}
