//! Rich notifications end to end against the simulator: `subscribe --rich` makes and registers a
//! certificate, deliveries are decrypted after their validation tokens check out, and every forgery the
//! simulator can make is rejected with its own reason, nothing decrypted.

use std::time::Duration;

use hookscope_engine::model::{KeeperAction, Notification, Verdict};
use hookscope_engine::simulator::{LifecycleEvent, Tamper, TriggerSpec};
use hookscope_engine::store::RequestQuery;
use serde_json::Value;

use crate::fixture::{request, World};

const TEAMS: &str = "/teams/getAllMessages";

async fn rich_world() -> (World, String) {
    let world = World::start().await;
    let mut wanted = request(TEAMS, "created,updated", "1h", true);
    wanted.rich = true;
    let created = hookscope_engine::subscriptions::subscribe(&world.engine, &world.graph, &wanted)
        .await
        .expect("a rich subscription is created");
    (world, created.id)
}

async fn send(world: &World, id: &str, tamper: Option<Tamper>, version: Option<u8>) {
    world
        .trigger(TriggerSpec {
            subscription_id: Some(id.to_string()),
            rich: true,
            tamper,
            token_version: version,
            ..TriggerSpec::default()
        })
        .await;
}

async fn nth(world: &World, id: &str, n: usize) -> Notification {
    world
        .notifications_until(id, "the delivery stored", |notes| notes.len() >= n)
        .await
        .into_iter()
        .next()
        .expect("newest first")
}

#[tokio::test]
async fn subscribe_rich_registers_a_certificate_and_deliveries_are_decrypted() {
    let (world, id) = rich_world().await;
    let local = world.local(&id).await;
    assert!(local.include_resource_data);
    let certificates = world.engine.keychain().list().await.unwrap();
    assert_eq!(certificates.len(), 1, "made on first use");
    assert!(certificates[0].active);
    assert_eq!(
        local.encryption_certificate_id.as_deref(),
        Some(certificates[0].id.as_str())
    );

    for (n, version) in [(1, 1), (2, 2)] {
        send(&world, &id, None, Some(version)).await;
        let note = nth(&world, &id, n).await;
        assert_eq!(
            note.verdict,
            Verdict::Accepted,
            "v{version}: {:?}",
            note.reason
        );
        assert_eq!(note.tokens_valid, Some(true));
        let resource = note.decrypted.expect("decrypted");
        assert!(resource["@odata.context"].is_string(), "{resource}");
        assert!(
            resource["body"]["content"].is_string(),
            "a chat message: {resource}"
        );
        // The inspector gets the ciphertext as delivered beside it, and the request with its answer.
        let inspection = world
            .engine
            .inspect(&note.id)
            .await
            .unwrap()
            .expect("stored");
        let item: Value = serde_json::from_str(&inspection.item).unwrap();
        assert!(item["encryptedContent"]["data"].is_string(), "{item}");
        let request = inspection.request.expect("the request is kept");
        assert_eq!(
            (request.status, request.path.as_str()),
            (202, "/notifications")
        );
        assert!(request.body.unwrap().contains("validationTokens"));
        assert_eq!(
            resource["id"].as_str(),
            note.resource_data.as_ref().and_then(|d| d["id"].as_str()),
            "the plaintext is the resource the item names"
        );
    }
}

#[tokio::test]
async fn every_forgery_is_rejected_with_its_reason_and_nothing_is_decrypted() {
    let (world, id) = rich_world().await;
    let token_failure = Some(false);
    let table: Vec<(Tamper, u8, &str, Option<bool>)> = vec![
        (
            Tamper::ClientState,
            1,
            "clientState does not match",
            Some(true),
        ),
        (Tamper::Hmac, 1, "data signature does not match", Some(true)),
        (
            Tamper::Ciphertext,
            1,
            "data signature does not match",
            Some(true),
        ),
        (
            Tamper::CertificateId,
            1,
            "which Hookscope does not hold",
            Some(true),
        ),
        (Tamper::Audience, 1, "not for the app", token_failure),
        (Tamper::Expired, 1, "expired at", token_failure),
        (Tamper::NotYetValid, 1, "not valid before", token_failure),
        (Tamper::Publisher, 1, "its appid is", token_failure),
        (Tamper::Publisher, 2, "its azp is", token_failure),
        (Tamper::Issuer, 1, "its issuer is", token_failure),
        (Tamper::Issuer, 2, "its issuer is", token_failure),
        (
            Tamper::Tenant,
            1,
            "where Hookscope holds no subscription",
            token_failure,
        ),
        (Tamper::UnknownKid, 1, "does not publish", token_failure),
        (
            Tamper::Signature,
            1,
            "signature does not verify",
            token_failure,
        ),
        (Tamper::AlgNone, 1, "Graph signs with RS256", token_failure),
        (
            Tamper::TokensNull,
            1,
            "Change Tracking\" service principal",
            None,
        ),
    ];
    for (n, (tamper, version, reason, tokens_valid)) in table.into_iter().enumerate() {
        send(&world, &id, Some(tamper), Some(version)).await;
        let note = nth(&world, &id, n + 1).await;
        let why = note.reason.clone().unwrap_or_default();
        assert_eq!(
            note.verdict,
            Verdict::Rejected,
            "{tamper:?} v{version} was accepted"
        );
        assert!(why.contains(reason), "{tamper:?} v{version}: {why}");
        assert_eq!(note.tokens_valid, tokens_valid, "{tamper:?} v{version}");
        assert!(
            note.decrypted.is_none(),
            "{tamper:?} v{version} was decrypted"
        );
    }
    // The checks leave the way open for a genuine delivery afterwards.
    send(&world, &id, None, None).await;
    let note = nth(&world, &id, 17).await;
    assert_eq!(note.verdict, Verdict::Accepted, "{:?}", note.reason);
    assert!(note.decrypted.is_some());
}

#[tokio::test]
async fn three_good_items_and_one_bad_hmac_get_their_own_verdicts() {
    let (world, id) = rich_world().await;
    world
        .trigger(TriggerSpec {
            subscription_id: Some(id.clone()),
            rich: true,
            count: Some(4),
            ..TriggerSpec::default()
        })
        .await;
    world
        .notifications_until(&id, "four items", |notes| notes.len() == 4)
        .await;
    // The same delivery again (its tokens still valid), with the third item's HMAC broken.
    let delivered = world
        .engine
        .requests(&RequestQuery::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|r| r.path == "/notifications" && r.status == 202)
        .expect("the delivery was recorded");
    let mut body: Value = serde_json::from_str(delivered.body.as_deref().unwrap()).unwrap();
    let signature = body["value"][2]["encryptedContent"]["dataSignature"]
        .as_str()
        .unwrap()
        .to_owned();
    let broken = if signature.starts_with('A') { "B" } else { "A" };
    body["value"][2]["encryptedContent"]["dataSignature"] =
        Value::String(format!("{broken}{}", &signature[1..]));
    let answer = reqwest::Client::new()
        .post(&world.listening().urls().notification_url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status(),
        202,
        "a bad item never spoils the batch's answer"
    );
    let notes = world
        .notifications_until(&id, "eight items", |notes| notes.len() == 8)
        .await;
    let mut replayed: Vec<&Notification> = notes[..4].iter().collect();
    replayed.sort_by_key(|n| n.position);
    for (position, note) in replayed.iter().enumerate() {
        assert_eq!(note.tokens_valid, Some(true));
        if position == 2 {
            assert_eq!(note.verdict, Verdict::Rejected);
            assert!(note
                .reason
                .as_deref()
                .unwrap()
                .contains("data signature does not match"));
            assert!(note.decrypted.is_none());
        } else {
            assert_eq!(
                note.verdict,
                Verdict::Accepted,
                "{position}: {:?}",
                note.reason
            );
            assert!(note.duplicate, "the same change again is flagged");
            assert!(note.decrypted.is_some());
        }
    }
}

#[tokio::test]
async fn a_rotation_keeps_old_keys_until_no_subscription_needs_them() {
    let (world, first) = rich_world().await;
    let keychain = world.engine.keychain();
    let old = keychain.list().await.unwrap()[0].id.clone();
    let (new, _) = keychain.generate(2048).await.unwrap();
    assert!(new.active);
    let listed = keychain.list().await.unwrap();
    let retired = listed.iter().find(|c| c.id == old).unwrap();
    assert!(!retired.active && retired.retired_at.is_some());

    // The old subscription still decrypts with the retired key; a new one gets the new key.
    send(&world, &first, None, None).await;
    assert!(nth(&world, &first, 1).await.decrypted.is_some());
    let mut wanted = request("/chats/getAllMessages", "created", "1h", true);
    wanted.rich = true;
    let second = hookscope_engine::subscriptions::subscribe(&world.engine, &world.graph, &wanted)
        .await
        .unwrap();
    assert_eq!(
        second.encryption_certificate_id.as_deref(),
        Some(new.id.as_str())
    );
    send(&world, &second.id, None, None).await;
    let note = nth(&world, &second.id, 1).await;
    assert!(note.decrypted.is_some(), "{:?}", note.reason);

    assert!(keychain.prune().await.unwrap().is_empty(), "still in use");
    hookscope_engine::subscriptions::delete(&world.engine, &world.graph, &first)
        .await
        .unwrap();
    assert!(
        keychain.prune().await.unwrap().is_empty(),
        "Graph may retry the removed subscription's deliveries for four hours"
    );
    assert_eq!(
        keychain.prune_after(Duration::ZERO).await.unwrap(),
        vec![old.clone()]
    );
    assert!(keychain.list().await.unwrap().iter().all(|c| c.id != old));
}

#[tokio::test]
async fn the_keeper_recreates_a_removed_rich_subscription_with_the_active_certificate() {
    let (world, id) = rich_world().await;
    let keeper = world.keeper();
    world
        .trigger(TriggerSpec {
            subscription_id: Some(id.clone()),
            lifecycle: Some(LifecycleEvent::SubscriptionRemoved),
            ..TriggerSpec::default()
        })
        .await;
    let events = world
        .keeper_events(&id, KeeperAction::Recreated, 1, Duration::from_secs(15))
        .await;
    assert!(events[0].ok, "{}", events[0].message);
    let successor = events[0].new_subscription_id.clone().unwrap();
    let local = world.local(&successor).await;
    assert!(local.include_resource_data);
    assert!(local.encryption_certificate_id.is_some());
    send(&world, &successor, None, None).await;
    let note = nth(&world, &successor, 1).await;
    assert_eq!(note.verdict, Verdict::Accepted, "{:?}", note.reason);
    assert!(note.decrypted.is_some());
    keeper.stop().await;
}

#[tokio::test]
async fn private_keys_stay_out_of_the_database_and_out_of_reach_of_others() {
    use rsa::traits::PrivateKeyParts;
    // The owner-only file is the fallback this machine has; force it so its permissions are checked
    // even where a keyring service runs. (Other tests in this binary then keep theirs in files too.)
    std::env::set_var("HOOKSCOPE_KEYRING", "file");
    let (world, id) = rich_world().await;
    let certificate = world.local(&id).await.encryption_certificate_id.unwrap();
    let key = world.engine.keychain().key(&certificate).await.unwrap();
    let prime = key.private_key().primes()[0].to_bytes_be();
    world.engine.close().await;
    let database = std::fs::read(world.dir.path().join("hookscope.sqlite3")).unwrap();
    let wal = std::fs::read(world.dir.path().join("hookscope.sqlite3-wal")).unwrap_or_default();
    for bytes in [&database, &wal] {
        assert!(
            !String::from_utf8_lossy(bytes).contains("PRIVATE KEY"),
            "a PEM private key reached the database"
        );
        assert!(
            !bytes.windows(32).any(|w| w == &prime[..32]),
            "the private key's prime reached the database in binary"
        );
    }
    use std::os::unix::fs::PermissionsExt;
    let secrets = world.dir.path().join("secrets");
    let dir_mode = std::fs::metadata(&secrets).unwrap().permissions().mode();
    assert_eq!(
        dir_mode & 0o077,
        0,
        "the secrets folder is the owner's alone"
    );
    let mut files = 0;
    for entry in std::fs::read_dir(&secrets).unwrap() {
        let mode = entry.unwrap().metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "a key file others can read");
        files += 1;
    }
    assert!(
        files >= 1,
        "the private key was kept in the owner-only file"
    );
}

#[tokio::test]
async fn microsofts_pfx_imports_under_its_id_and_opens_its_own_vector() {
    use base64::Engine as _;
    use hookscope_engine::rich::{self, EncryptedContent};
    use hookscope_engine::{Engine, EngineConfig};
    use sha2::Digest;

    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/msgraph_dotnet_rich_vector.json"
    );
    let vector: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let pfx = base64::engine::general_purpose::STANDARD
        .decode(vector["pkcs12Base64"].as_str().unwrap())
        .unwrap();
    let content: EncryptedContent =
        serde_json::from_value(vector["encryptedContent"].clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::new(dir.path())).await.unwrap();
    let keychain = engine.keychain();

    let wrong = keychain
        .import(Some("custom-id-for-testing"), &pfx, Some("not-rich"))
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("check the password"), "{wrong}");
    let (info, _) = keychain
        .import(Some("custom-id-for-testing"), &pfx, Some("rich"))
        .await
        .unwrap();
    assert_eq!(info.thumbprint, content.encryption_certificate_thumbprint);
    assert_eq!(
        (info.bits, info.origin.as_str(), info.active),
        (4096, "imported", true)
    );
    let again = keychain
        .import(Some("custom-id-for-testing"), &pfx, Some("rich"))
        .await
        .unwrap_err();
    assert!(again.to_string().contains("already held"), "{again}");
    let bad = keychain
        .key_for(
            "custom-id-for-testing",
            "00112233445566778899AABBCCDDEEFF00112233",
        )
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("thumbprint"), "{bad}");
    engine.close().await;

    // Another process on the same data directory finds the key where the first one kept it.
    let other = Engine::open(EngineConfig::new(dir.path())).await.unwrap();
    let key = other
        .keychain()
        .key_for(
            &content.encryption_certificate_id,
            &content.encryption_certificate_thumbprint,
        )
        .await
        .unwrap();
    let plaintext = rich::decrypt(&content, key.private_key()).unwrap();
    assert_eq!(
        format!("{:x}", sha2::Sha256::digest(&plaintext)),
        vector["expected"]["plaintextSha256"].as_str().unwrap()
    );
    other.close().await;
}

#[tokio::test]
async fn a_certificate_id_pruned_and_imported_again_elsewhere_is_reread_here() {
    use hookscope_engine::rich::EncryptionKey;
    use hookscope_engine::{Engine, EngineConfig};

    let dir = tempfile::tempdir().unwrap();
    let here = Engine::open(EngineConfig::new(dir.path())).await.unwrap();
    let first = EncryptionKey::generate("shared-id", 2048).unwrap();
    let pem =
        |k: &EncryptionKey| format!("{}{}", k.certificate_pem(), k.private_key_pem().unwrap());
    here.keychain()
        .import(Some("shared-id"), pem(&first).as_bytes(), None)
        .await
        .unwrap();
    let cached = here.keychain().key("shared-id").await.unwrap();
    assert_eq!(cached.thumbprint(), first.thumbprint());

    // Another process retires it, prunes it and imports a different key under the same id.
    let there = Engine::open(EngineConfig::new(dir.path())).await.unwrap();
    there.keychain().generate(2048).await.unwrap();
    assert_eq!(
        there.keychain().prune_after(Duration::ZERO).await.unwrap(),
        vec!["shared-id".to_owned()]
    );
    let second = EncryptionKey::generate("shared-id", 2048).unwrap();
    there
        .keychain()
        .import(Some("shared-id"), pem(&second).as_bytes(), None)
        .await
        .unwrap();

    // An item encrypted for the new key names its thumbprint: this process reads the key again.
    let key = here
        .keychain()
        .key_for("shared-id", &second.thumbprint())
        .await
        .expect("re-read after the thumbprint did not match the cached key");
    assert_eq!(key.thumbprint(), second.thumbprint());
    there.close().await;
    here.close().await;
}

#[tokio::test]
async fn a_rich_subscriptions_item_without_validation_tokens_is_rejected() {
    let (world, id) = rich_world().await;
    send(&world, &id, None, None).await;
    let genuine = nth(&world, &id, 1).await;
    assert_eq!(genuine.verdict, Verdict::Accepted, "{:?}", genuine.reason);
    let delivered = world
        .engine
        .requests(&RequestQuery::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|r| r.id == genuine.request_id)
        .expect("the delivery was recorded");
    // The item as a forger who cannot make Graph's tokens would send it: the subscription's own id and
    // clientState, no encrypted content to give it away as rich.
    let mut with_tokens: Value = serde_json::from_str(delivered.body.as_deref().unwrap()).unwrap();
    with_tokens["value"][0]
        .as_object_mut()
        .unwrap()
        .remove("encryptedContent");
    assert!(with_tokens["validationTokens"].is_array());
    let mut without_tokens = with_tokens.clone();
    without_tokens
        .as_object_mut()
        .unwrap()
        .remove("validationTokens");
    // A deletion has no resource data left, and Graph sends a batch of deletions alone without tokens.
    let mut deletion = without_tokens.clone();
    deletion["value"][0]["changeType"] = Value::from("deleted");
    deletion["value"][0]
        .as_object_mut()
        .unwrap()
        .remove("resourceData");
    let post = |body: Value| {
        let url = world.listening().urls().notification_url.clone();
        async move {
            let answer = reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 202, "still 202, so Graph does not retry");
        }
    };

    // Positive control: the same item, vouched for by Graph's tokens, is accepted.
    post(with_tokens).await;
    let vouched = nth(&world, &id, 2).await;
    assert_eq!(
        (
            vouched.verdict,
            vouched.reason.as_deref(),
            vouched.tokens_valid
        ),
        (Verdict::Accepted, None, Some(true))
    );

    post(without_tokens).await;
    let bare = nth(&world, &id, 3).await;
    assert_eq!(
        (bare.verdict, bare.reason.as_deref(), bare.tokens_valid),
        (
            Verdict::Rejected,
            Some("The item's subscription includes resource data, but the batch has no validationTokens, so nothing proves it comes from Graph."),
            None
        )
    );
    assert!(bare.decrypted.is_none());

    post(deletion).await;
    let deleted = nth(&world, &id, 4).await;
    assert_eq!(
        (
            deleted.verdict,
            deleted.reason.as_deref(),
            deleted.tokens_valid
        ),
        (Verdict::Accepted, None, None)
    );
}
