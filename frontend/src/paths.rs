//! The SPA's own addresses (the API's are in `api`), and the list page's state as its address
//! carries it, so that Back, Forward, reload and a shared link all show the same view.

use vitesse_domain::listing::{ClientListQuery, percent_encode};

pub const SIGN_IN: &str = "/sign-in";
pub const CLIENTS: &str = "/administration/identity-clients";
pub const NEW_CLIENT: &str = "/administration/identity-clients/new";

pub fn client(id: &str) -> String {
    format!("{CLIENTS}/{}", percent_encode(id))
}

pub fn edit_client(id: &str) -> String {
    format!("{}/edit", client(id))
}

/// The details page, announcing that the client was just created.
pub fn client_created(id: &str) -> String {
    format!("{}?created=1", client(id))
}

/// The details page, announcing that an edit was saved.
pub fn client_saved(id: &str) -> String {
    format!("{}?saved=1", client(id))
}

/// Sign-in, then on to `next` (a path of this site, with its query).
pub fn sign_in_then(next: &str) -> String {
    format!("{SIGN_IN}?next={}", percent_encode(next))
}

/// The query parameter holding the cursors of the pages before this one.
const EARLIER: &str = "prev";

/// The identity-client list as its URL shows it: the API's own list query (search, status,
/// sort, page size and this page's cursor, written by `ClientListQuery::to_query_string`), and
/// the cursors of the pages before this one, oldest first, one repeated `prev` parameter each.
/// The API's cursors only go forward; keeping the earlier ones in the address is what lets
/// "Previous page" work after a reload or from a shared link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListView {
    pub query: ClientListQuery,
    /// Cursors of pages 2 … n−1 (page 1 has none); empty on pages 1 and 2.
    pub earlier: Vec<String>,
}

impl ListView {
    /// Reads the list page's query string (without `?`, as `use_location().search` gives it).
    /// Decoded once, by the browser's `URLSearchParams`: leptos_router's `use_query_map`
    /// decodes values a second time, which would turn a typed `%41` into `A`.
    pub fn from_search(search: &str) -> Self {
        let Ok(params) = web_sys::UrlSearchParams::new_with_str(search) else {
            return Self::default();
        };
        let text = |k: &str| params.get(k).filter(|v| !v.is_empty());
        Self {
            query: ClientListQuery {
                limit: text("limit").and_then(|l| l.parse().ok()),
                cursor: text("cursor"),
                status: text("status"),
                search: text("search"),
                sort: text("sort"),
                filter: text("filter"),
            },
            earlier: params
                .get_all(EARLIER)
                .iter()
                .filter_map(|v| v.as_string())
                .filter(|v| !v.is_empty())
                .collect(),
        }
    }

    /// The address of this view.
    pub fn href(&self) -> String {
        let mut query = self.query.to_query_string();
        for cursor in &self.earlier {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(EARLIER);
            query.push('=');
            query.push_str(&percent_encode(cursor));
        }
        if query.is_empty() {
            CLIENTS.to_owned()
        } else {
            format!("{CLIENTS}?{query}")
        }
    }

    /// Whether a search or a filter narrows the list.
    pub fn is_filtered(&self) -> bool {
        self.query
            .search
            .as_deref()
            .is_some_and(|s| !s.trim().is_empty())
            || self.query.status.as_deref().is_some_and(|s| !s.is_empty())
            || self.query.filter.as_deref().is_some_and(|s| !s.is_empty())
    }

    /// The first page of this view with another search text (kept as typed, spaces and all).
    pub fn with_search(&self, search: String) -> Self {
        self.first_page(|q| q.search = Some(search).filter(|s| !s.is_empty()))
    }

    /// The first page of this view with another status filter (`""` is all).
    pub fn with_status(&self, status: String) -> Self {
        self.first_page(|q| q.status = Some(status).filter(|s| !s.is_empty()))
    }

    /// The first page of this view with another usage filter (`""` is none).
    pub fn with_filter(&self, filter: String) -> Self {
        self.first_page(|q| q.filter = Some(filter).filter(|s| !s.is_empty()))
    }

    fn first_page(&self, change: impl FnOnce(&mut ClientListQuery)) -> Self {
        let mut query = ClientListQuery {
            cursor: None,
            ..self.query.clone()
        };
        change(&mut query);
        Self {
            query,
            earlier: vec![],
        }
    }

    /// The page after this one, which starts at `next_cursor`.
    pub fn next_page(&self, next_cursor: String) -> Self {
        let mut next = self.clone();
        next.earlier.extend(next.query.cursor.replace(next_cursor));
        next
    }

    /// The page before this one; `None` on the first page.
    pub fn previous_page(&self) -> Option<Self> {
        self.query.cursor.as_ref()?;
        let mut previous = self.clone();
        previous.query.cursor = previous.earlier.pop();
        Some(previous)
    }
}

/// One parameter of a query string (without `?`), decoded once (see [`ListView::from_search`]).
pub fn query_param(search: &str, key: &str) -> Option<String> {
    web_sys::UrlSearchParams::new_with_str(search)
        .ok()?
        .get(key)
}
