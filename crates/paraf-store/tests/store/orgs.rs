//! Organisations, quotas, users, groups, contacts, and tenant isolation.

use paraf_domain::{
    ContactId, DomainError, Email, Entity, GroupId, NewContact, NewUser, Nik, OrgId, Password,
    PersonName, Plan, QuotaKind, Role, Slug, UserId,
};
use paraf_store::StoreError;

use crate::common::{org, t, user, TestDb};
use crate::store_tests;

store_tests!(
    organisations_and_quotas,
    users_groups_contacts,
    tenant_isolation
);

async fn organisations_and_quotas(db: TestDb) {
    let s = &db.store;
    let a = org(s, "acme").await;
    assert_eq!(a.plan, Plan::Lontar);
    assert_eq!(a.quotas, Plan::Lontar.default_quotas());
    assert_eq!(a.created_at, t(0));

    let dup = s
        .create_organisation(
            &paraf_domain::NewOrganisation {
                slug: Slug::parse("acme").unwrap(),
                name: paraf_domain::OrgName::parse("Other").unwrap(),
                plan: Plan::Nusantara,
            },
            t(1),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        dup.domain(),
        Some(DomainError::AlreadyExists {
            entity: Entity::Organisation,
            ..
        })
    ));

    assert_eq!(s.organisation_by_slug("acme").await.unwrap().id, a.id);
    assert!(s
        .organisation_by_slug("nope")
        .await
        .unwrap_err()
        .is_not_found());
    assert!(s
        .organisation(OrgId(9999))
        .await
        .unwrap_err()
        .is_not_found());

    // Quotas: all or nothing.
    let limit = a.quotas.documents;
    assert_eq!(
        s.consume_quota(a.id, QuotaKind::Documents, limit - 1, "2026-01")
            .await
            .unwrap()
            .documents,
        limit - 1
    );
    assert_eq!(
        s.consume_quota(a.id, QuotaKind::Documents, 1, "2026-01")
            .await
            .unwrap()
            .documents,
        limit
    );
    let e = s
        .consume_quota(a.id, QuotaKind::Documents, 1, "2026-01")
        .await
        .unwrap_err();
    assert_eq!(
        e.domain(),
        Some(&DomainError::QuotaExceeded {
            quota: QuotaKind::Documents,
            limit,
            used: limit
        })
    );
    assert_eq!(
        s.add_usage(a.id, QuotaKind::Documents, -5, "2026-01")
            .await
            .unwrap()
            .documents,
        limit - 5
    );
    assert_eq!(
        s.add_usage(a.id, QuotaKind::Documents, -2 * limit as i64, "2026-01")
            .await
            .unwrap()
            .documents,
        0
    );
    s.consume_quota(a.id, QuotaKind::StorageBytes, 1 << 20, "2026-01")
        .await
        .unwrap();

    let up = s.set_plan(a.id, Plan::Nusantara).await.unwrap();
    assert_eq!(up.quotas, Plan::Nusantara.default_quotas());
    assert_eq!(up.usage.storage_bytes, 1 << 20);
    // A new month: the monthly counters start again, storage does not.
    let feb = s
        .consume_quota(a.id, QuotaKind::Signatures, 2, "2026-02")
        .await
        .unwrap();
    assert_eq!((feb.documents, feb.signatures), (0, 2));
    assert_eq!(feb.storage_bytes, 1 << 20);
    let o = s.organisation(a.id).await.unwrap();
    assert_eq!(o.usage_in("2026-03").signatures, 0);
    assert_eq!(o.usage_in("2026-02").signatures, 2);
    assert_eq!(s.reset_usage(a.id).await.unwrap().storage_bytes, 0);
    assert_eq!(s.list_organisations().await.unwrap().len(), 1);
}

async fn users_groups_contacts(db: TestDb) {
    let s = &db.store;
    let a = org(s, "acme").await;
    let b = org(s, "beta").await;
    let nik = Nik::parse("3201234567890001").unwrap();
    let u = s
        .create_user(
            &NewUser {
                org: a.id,
                name: PersonName::parse("Siti Rahma").unwrap(),
                email: Email::parse("Siti@Example.com").unwrap(),
                nik: Some(nik.clone()),
                role: Role::Admin,
                robot: false,
                password: Some(Password::parse("s3cret-pass").unwrap()),
                profile: Default::default(),
            },
            t(5),
        )
        .await
        .unwrap();
    assert_eq!(u.email.as_str(), "siti@example.com");
    assert!(u.has_password);
    assert_eq!(s.user_by_email(a.id, &u.email).await.unwrap(), u);
    assert_eq!(s.users_by_nik(a.id, &nik).await.unwrap(), vec![u.clone()]);

    // Email unique per organisation, not across.
    let dup = s
        .create_user(
            &NewUser {
                org: a.id,
                name: PersonName::parse("Another Siti").unwrap(),
                email: Email::parse("siti@example.com").unwrap(),
                nik: None,
                role: Role::Signer,
                robot: false,
                password: None,
                profile: Default::default(),
            },
            t(5),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        dup.domain(),
        Some(DomainError::AlreadyExists {
            entity: Entity::User,
            ..
        })
    ));
    let other = user(s, &b, "siti@example.com", None).await;
    assert_eq!(other.org, b.id);
    assert!(!other.has_password);

    // Password check.
    assert_eq!(
        s.verify_user_password(a.id, &u.email, "s3cret-pass")
            .await
            .unwrap()
            .id,
        u.id
    );
    let wrong = s
        .verify_user_password(a.id, &u.email, "nope-nope")
        .await
        .unwrap_err();
    assert_eq!(
        wrong.auth_failure(),
        Some(paraf_domain::AuthFailure::WrongPassword)
    );
    let none = s
        .verify_user_password(b.id, &u.email, "s3cret-pass")
        .await
        .unwrap_err();
    assert_eq!(
        none.auth_failure(),
        Some(paraf_domain::AuthFailure::UnknownCredential)
    );
    s.set_user_disabled(a.id, u.id, true, chrono::Utc::now())
        .await
        .unwrap();
    let dis = s
        .verify_user_password(a.id, &u.email, "s3cret-pass")
        .await
        .unwrap_err();
    assert_eq!(
        dis.auth_failure(),
        Some(paraf_domain::AuthFailure::Disabled)
    );
    s.set_user_disabled(a.id, u.id, false, chrono::Utc::now())
        .await
        .unwrap();
    s.set_user_password(a.id, u.id, &Password::parse("another-pass").unwrap())
        .await
        .unwrap();
    s.verify_user_password(a.id, &u.email, "another-pass")
        .await
        .unwrap();
    assert_eq!(
        s.set_user_role(a.id, u.id, Role::Instructor)
            .await
            .unwrap()
            .role,
        Role::Instructor
    );

    // Groups.
    let g = s
        .create_group(a.id, &PersonName::parse("Finance").unwrap(), t(6))
        .await
        .unwrap();
    let dup = s
        .create_group(a.id, &PersonName::parse("Finance").unwrap(), t(6))
        .await
        .unwrap_err();
    assert!(matches!(
        dup.domain(),
        Some(DomainError::AlreadyExists {
            entity: Entity::Group,
            ..
        })
    ));
    s.add_group_member(a.id, g.id, u.id).await.unwrap();
    s.add_group_member(a.id, g.id, u.id).await.unwrap();
    assert_eq!(
        s.group_members(a.id, g.id).await.unwrap(),
        vec![s.user(a.id, u.id).await.unwrap()]
    );
    // A user of another organisation cannot join.
    assert!(s
        .add_group_member(a.id, g.id, other.id)
        .await
        .unwrap_err()
        .is_not_found());
    s.remove_group_member(a.id, g.id, u.id).await.unwrap();
    assert!(s.group_members(a.id, g.id).await.unwrap().is_empty());
    assert_eq!(s.list_groups(a.id).await.unwrap().len(), 1);

    // Contacts.
    let c = s
        .create_contact(
            &NewContact {
                org: a.id,
                name: PersonName::parse("Andi").unwrap(),
                email: Email::parse("andi@example.org").unwrap(),
                phone: Some("+62 812 0000".into()),
                company: None,
            },
            t(7),
        )
        .await
        .unwrap();
    assert_eq!(s.contact(a.id, c.id).await.unwrap(), c);
    assert_eq!(s.list_contacts(a.id).await.unwrap(), vec![c.clone()]);
    s.delete_contact(a.id, c.id).await.unwrap();
    assert!(s
        .delete_contact(a.id, c.id)
        .await
        .unwrap_err()
        .is_not_found());
    let _ = (ContactId(0), GroupId(0), UserId(0));
}

/// An organisation never sees another's rows through any method that takes an OrgId.
async fn tenant_isolation(db: TestDb) {
    use paraf_domain::{
        IpAllowList, NewApiToken, NewAppCredential, NewWebhookEndpoint, TokenLifetimes,
    };
    let s = &db.store;
    let a = org(s, "acme").await;
    let b = org(s, "beta").await;
    let ua = user(s, &a, "a@example.com", Some("password-a")).await;
    let ub = user(s, &b, "b@example.com", Some("password-b")).await;
    let ga = s
        .create_group(a.id, &PersonName::parse("G").unwrap(), t(0))
        .await
        .unwrap();
    let ca = s
        .create_contact(
            &NewContact {
                org: a.id,
                name: PersonName::parse("C").unwrap(),
                email: Email::parse("c@example.com").unwrap(),
                phone: None,
                company: None,
            },
            t(0),
        )
        .await
        .unwrap();
    let (ta, _) = s
        .create_api_token(
            &NewApiToken {
                org: a.id,
                user: ua.id,
                name: "ERP".into(),
                expires_at: None,
            },
            t(0),
        )
        .await
        .unwrap();
    let appa = s
        .create_app_credential(
            &NewAppCredential {
                org: a.id,
                username: "erp-a".into(),
                password: Password::parse("app-password").unwrap(),
                description: String::new(),
                allowed_ips: IpAllowList::default(),
            },
            t(0),
        )
        .await
        .unwrap();
    let wa = s
        .create_webhook_endpoint(
            &NewWebhookEndpoint {
                org: a.id,
                url: "https://example.com/hook".into(),
                secret: "k".into(),
                description: String::new(),
                events: vec![],
            },
            t(0),
        )
        .await
        .unwrap();
    let gwa = s
        .create_gateway_app(a.id, "gw", &[1; 32], false, t(0))
        .await
        .unwrap();
    s.append_audit(&paraf_domain::NewAuditEvent {
        org: a.id,
        at: t(0),
        actor: "cli".into(),
        action: "x".into(),
        target: None,
        ip: None,
        user_agent: None,
        details: serde_json::json!({}),
    })
    .await
    .unwrap();

    // B asks for A's rows by id: not found, never A's data.
    let nf = |r: Result<(), StoreError>| assert!(r.unwrap_err().is_not_found());
    nf(s.user(b.id, ua.id).await.map(|_| ()));
    nf(s.user_by_email(b.id, &ua.email).await.map(|_| ()));
    nf(s.set_user_role(b.id, ua.id, Role::Admin).await.map(|_| ()));
    nf(s.set_user_disabled(b.id, ua.id, true, chrono::Utc::now())
        .await
        .map(|_| ()));
    nf(
        s.set_user_password(b.id, ua.id, &Password::parse("hijacked!").unwrap())
            .await,
    );
    nf(s.group(b.id, ga.id).await.map(|_| ()));
    nf(s.group_members(b.id, ga.id).await.map(|_| ()));
    nf(s.add_group_member(b.id, ga.id, ub.id).await);
    nf(s.remove_group_member(b.id, ga.id, ua.id).await);
    nf(s.contact(b.id, ca.id).await.map(|_| ()));
    nf(s.delete_contact(b.id, ca.id).await);
    nf(s.api_token(b.id, ta.id).await.map(|_| ()));
    nf(s.revoke_api_token(b.id, ta.id, t(1)).await);
    nf(s.create_api_token(
        &NewApiToken {
            org: b.id,
            user: ua.id,
            name: "x".into(),
            expires_at: None,
        },
        t(1),
    )
    .await
    .map(|_| ()));
    nf(s.app_credential(b.id, appa.id).await.map(|_| ()));
    nf(s.set_app_credential_enabled(b.id, appa.id, false)
        .await
        .map(|_| ()));
    nf(
        s.set_app_credential_allowed_ips(b.id, appa.id, &IpAllowList::default())
            .await
            .map(|_| ()),
    );
    nf(s.set_app_credential_description(b.id, appa.id, "x")
        .await
        .map(|_| ()));
    nf(
        s.set_app_credential_password(b.id, appa.id, &Password::parse("hijacked!").unwrap())
            .await,
    );
    nf(s.delete_app_credential(b.id, appa.id).await);
    nf(s.webhook_endpoint(b.id, wa.id).await.map(|_| ()));
    nf(s.set_webhook_endpoint_enabled(b.id, wa.id, false)
        .await
        .map(|_| ()));
    nf(s.delete_webhook_endpoint(b.id, wa.id).await);
    nf(s.set_gateway_app_enabled(b.id, gwa.id, false).await);
    nf(s.gateway_app(b.id, gwa.id).await.map(|_| ()));
    nf(s.set_gateway_app_key(b.id, gwa.id, &[2; 32])
        .await
        .map(|_| ()));
    nf(s.delete_gateway_app(b.id, gwa.id, t(1)).await);
    nf(
        s.issue_user_token(b.id, gwa.id, ub.id, &TokenLifetimes::default(), t(1))
            .await
            .map(|_| ()),
    );
    nf(
        s.issue_user_token(a.id, gwa.id, ub.id, &TokenLifetimes::default(), t(1))
            .await
            .map(|_| ()),
    );
    nf(
        s.create_console_session(b.id, ua.id, &TokenLifetimes::default(), t(1))
            .await
            .map(|_| ()),
    );
    let grant = s
        .oauth_password_grant(
            b.id,
            &ua.email,
            "password-a",
            &TokenLifetimes::default(),
            t(1),
        )
        .await
        .unwrap_err();
    assert_eq!(
        grant.auth_failure(),
        Some(paraf_domain::AuthFailure::UnknownCredential)
    );

    // Listings of B hold only B's rows.
    assert_eq!(s.list_users(b.id).await.unwrap(), vec![ub.clone()]);
    assert!(s.list_groups(b.id).await.unwrap().is_empty());
    assert!(s.list_contacts(b.id).await.unwrap().is_empty());
    assert!(s.list_api_tokens(b.id, None).await.unwrap().is_empty());
    assert!(s
        .list_api_tokens(b.id, Some(ua.id))
        .await
        .unwrap()
        .is_empty());
    assert!(s.list_app_credentials(b.id).await.unwrap().is_empty());
    assert!(s.list_webhook_endpoints(b.id).await.unwrap().is_empty());
    assert!(s
        .list_webhook_deliveries(b.id, None, 100)
        .await
        .unwrap()
        .is_empty());
    assert!(s.list_mail(Some(b.id), 100).await.unwrap().is_empty());
    assert!(s.audit_records(b.id, 0, 100).await.unwrap().is_empty());

    // A's rows are intact.
    assert_eq!(s.user(a.id, ua.id).await.unwrap().role, Role::Signer);
    assert!(s.app_credential(a.id, appa.id).await.unwrap().enabled);
    assert!(s.api_token(a.id, ta.id).await.unwrap().revoked_at.is_none());
    assert_eq!(s.list_contacts(a.id).await.unwrap().len(), 1);
    assert!(matches!(
        s.verify_audit_chain(a.id).await.unwrap(),
        paraf_domain::AuditChainReport::Intact { records: 1, .. }
    ));
}
