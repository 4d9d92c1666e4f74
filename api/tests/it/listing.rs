//! The client list: paging, status filter, search and sort.
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(list_pages_filters_searches_and_sorts,);

async fn list_pages_filters_searches_and_sorts(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    for i in 0..7 {
        let mut body = valid_client(&format!("client-{i:02}"));
        body["name"] = json!(if i % 2 == 0 {
            format!("Ünïcode Shop {i}")
        } else {
            format!("Warehouse {i}")
        });
        assert_eq!(
            app.create_client(&admin, &body).await.status(),
            StatusCode::CREATED
        );
    }
    let all = json(
        admin
            .get(app.url("/api/v1/identity-clients"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let c3 = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == "client-03")
        .unwrap()
        .clone();
    patch(&app, &admin, &c3, json!({"enabled": false}), None).await;

    // Pages of 3 in client-ID order, no gaps, no repeats.
    let mut seen = vec![];
    let mut url = app.url("/api/v1/identity-clients?limit=3");
    loop {
        let page = json(admin.get(&url).send().await.unwrap()).await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["client_id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cur) => url = app.url(&format!("/api/v1/identity-clients?limit=3&cursor={cur}")),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..7).map(|i| format!("client-{i:02}")).collect::<Vec<_>>()
    );

    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["client_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let disabled = json(
        admin
            .get(app.url("/api/v1/identity-clients?status=disabled"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(&disabled), ["client-03"]);
    let enabled = json(
        admin
            .get(app.url("/api/v1/identity-clients?status=enabled"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(&enabled).len(), 6);
    // Case-insensitive, also beyond ASCII, on both backends alike.
    let search = json(
        admin
            .get(app.url("/api/v1/identity-clients?search=%C3%BCn%C3%AFCODE"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        ids(&search),
        ["client-00", "client-02", "client-04", "client-06"]
    );
    let by_id = json(
        admin
            .get(app.url("/api/v1/identity-clients?search=CLIENT-05"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(&by_id), ["client-05"]);
    let like_chars = json(
        admin
            .get(app.url("/api/v1/identity-clients?search=%25"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(&like_chars).len(), 0, "% is text, not a wildcard");
    let newest = json(
        admin
            .get(app.url("/api/v1/identity-clients?sort=-updated_at&limit=1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(&newest), ["client-03"]);
    let oldest = json(
        admin
            .get(app.url("/api/v1/identity-clients?sort=created_at&limit=2"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(&oldest), ["client-00", "client-01"]);
    let bad = admin
        .get(app.url("/api/v1/identity-clients?sort=secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(bad).await["errors"][0]["field"], "sort");
    let bad = admin
        .get(app.url("/api/v1/identity-clients?cursor=garbage"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

on_both_backends!(search_follows_edits_and_deletes_and_common_or_rare_text,);

/// Search reads an index (a trigram table on SQLite, trigram indexes on PostgreSQL) for rare
/// text and the list's order for common text: both answer alike, and the index follows
/// renames and deletions at once.
async fn search_follows_edits_and_deletes_and_common_or_rare_text(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, _) = app.signed_in_admin().await;
    let mut made = vec![];
    for i in 0..6 {
        let mut body = valid_client(&format!("fleet-{i:02}"));
        body["name"] = json!(format!("Warehouse {i}"));
        made.push(json(app.create_client(&admin, &body).await).await);
    }
    let found = |q: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            let page = json(
                admin
                    .get(app.url(&format!("/api/v1/identity-clients?search={q}")))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["client_id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found("WAREHOUSE").await.len(), 6);
    assert_eq!(found("house%203").await, ["fleet-03"]);
    // Renamed: found by its new name and ID, no longer by the old ones.
    let res = patch(
        &app,
        &admin,
        &made[3],
        json!({"client_id": "renamed-one", "name": "Payouts robot"}),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(found("robot").await, ["renamed-one"]);
    assert_eq!(found("named-o").await, ["renamed-one"]);
    assert!(found("house%203").await.is_empty());
    assert!(found("fleet-03").await.is_empty());
    // Name cleared, then the client deleted: gone from the index.
    let res = patch(&app, &admin, &made[2], json!({"name": null}), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(found("house%202").await.is_empty());
    assert_eq!(found("fleet-02").await, ["fleet-02"]);
    let res = admin
        .delete(app.url(&path_of(&made[2])))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(found("fleet-02").await.is_empty());
    assert_eq!(found("fle").await.len(), 4);
    // A control character (a NUL would cut the index's query short) is refused, naming search.
    let res = admin
        .get(app.url("/api/v1/identity-clients?search=fle%00et"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(res).await["errors"][0]["field"], "search");
}

on_both_backends!(a_search_whose_matches_lie_deep_in_the_order_pages_them_all_in_order,);

/// A search's matches far along the list's order, beyond the rows PostgreSQL walks before it
/// turns to the trigram index (`SEARCH_WALK`, 5,000), come in order, each once, with the ones
/// before that point: ascending and descending, across pages.
async fn a_search_whose_matches_lie_deep_in_the_order_pages_them_all_in_order(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, who) = app.signed_in_admin().await;
    let mut expected = vec![];
    for id in ["aa-needle-1", "aa-needle-2", "zz-needle-00"] {
        let res = app.create_client(&admin, &valid_client(id)).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        expected.push(id.to_owned());
    }
    // 6,000 clients that do not match, between the first matches and the last (written
    // straight into the table: through the API each would cost a bcrypt), and 59 that match
    // after them all.
    let account = who.account_id.clone();
    app.db(move |c| {
        use diesel::RunQueryDsl;
        for (prefix, start, count, ids) in [
            ("bulk-", 100_000, 6000, 100_000_000_000_u64),
            ("zz-needle-", 1000, 59, 200_000_000_000),
        ] {
            diesel::sql_query(format!(
                "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count}) \
                 INSERT INTO identity_clients (id, account_id, client_id, client_id_key, \
                 secret_hash, name, token_duration_minutes, enabled, roles, version, created_at, \
                 updated_at, name_key, token_generation, account_enabled, auth_method, \
                 token_quota_mode, secret_created_at) \
                 SELECT '00000000-0000-4000-8000-' || ({ids} + n), account_id, '{prefix}' || ({start} + n), \
                 '{prefix}' || ({start} + n), secret_hash, NULL, token_duration_minutes, enabled, \
                 roles, 1, created_at, updated_at, NULL, 0, account_enabled, auth_method, \
                 token_quota_mode, secret_created_at FROM identity_clients, s \
                 WHERE account_id = '{account}' AND client_id = 'zz-needle-00'"
            ))
            .execute(c)?;
        }
        Ok(())
    })
    .await;
    expected.extend((1001..1060).map(|n| format!("zz-needle-{n}")));
    let pages = |sort: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            let mut seen = vec![];
            let mut url = app.url(&format!(
                "/api/v1/identity-clients?search=NEEDLE&sort={sort}"
            ));
            loop {
                let page = json(admin.get(&url).send().await.unwrap()).await;
                let items = page["items"].as_array().unwrap_or_else(|| panic!("{page}"));
                assert!(items.len() <= 50);
                seen.extend(
                    items
                        .iter()
                        .map(|c| c["client_id"].as_str().unwrap().to_owned()),
                );
                match page["next_cursor"].as_str() {
                    Some(cur) => {
                        url = app.url(&format!(
                            "/api/v1/identity-clients?search=NEEDLE&sort={sort}&cursor={cur}"
                        ))
                    }
                    None => return seen,
                }
            }
        }
    };
    assert_eq!(pages("client_id").await, expected);
    expected.reverse();
    assert_eq!(pages("-client_id").await, expected);
}
