//! The page of bank credits waiting for a person: agents and admins see who paid and why no
//! rule placed it, escaped; analysts do not; a forged form is refused; dismissing and placing
//! by hand are stored and audited.

mod common;

use common::{client, csrf_in, page, sign_in, start};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};

struct Quiet;
impl app::Imported for Quiet {}

const STATEMENT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>W</MsgId><CreDtTm>2025-01-02T06:00:00</CreDtTm></GrpHdr>
<Stmt><Id>W-1</Id><Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><Amt Ccy="EUR">42.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2024-12-02</Dt></BookgDt><AcctSvcrRef>W-A</AcctSvcrRef>
<NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>Mr &lt;b&gt;Unknown&lt;/b&gt;</Nm></Pty></Dbtr>
<DbtrAcct><Id><IBAN>NL55TRIO0212345678</IBAN></Id></DbtrAcct></RltdPties>
<RmtInf><Ustrd>a gift</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy="EUR">13.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2024-12-03</Dt></BookgDt><AcctSvcrRef>W-B</AcctSvcrRef>
<NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>Supplier BV</Nm></Pty></Dbtr></RltdPties>
<RmtInf><Ustrd>refund</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
"#;

#[tokio::test]
async fn waiting_credits_are_shown_to_agents_escaped_refused_to_analysts_and_dismissed_by_a_real_form()
 {
    let s = start().await;
    let path = s.dir.path().join("statement.xml");
    std::fs::write(&path, STATEMENT).unwrap();
    let st = s.state.clone();
    let out = tokio::task::spawn_blocking(move || st.app.import_statement(&path, &mut Quiet))
        .await
        .unwrap()
        .unwrap();
    assert!(out.committed);
    assert_eq!(out.unmatched, 2);

    let analyst = sign_in(&s, &s.analyst).await;
    let (status, _) = page(&s, &analyst, "/payments").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let session = sign_in(&s, &s.agent).await;
    let (status, html) = page(&s, &session, "/payments").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("2 waiting"), "{html}");
    assert!(
        !html.contains("<b>Unknown</b>"),
        "a payer's name is never markup"
    );
    assert!(
        html.contains("Mr &lt;b&gt;Unknown&lt;/b&gt;")
            || html.contains("Mr &#60;b&#62;Unknown&#60;/b&#62;"),
        "{html}"
    );
    assert!(
        html.contains("no reference, invoice number or known account"),
        "{html}"
    );
    // The forms of a row come after its payer.
    let at = html.find("Supplier BV").expect("the second credit");
    let from = at + html[at..].find("/payments/").expect("its form") + "/payments/".len();
    let no: String = html[from..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let dismiss = format!("/payments/{no}/dismiss");

    let r = client()
        .post(s.url(&dismiss))
        .header(COOKIE, &session)
        .form(&[("csrf", "forged"), ("reason", "refund from a supplier")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());

    let csrf = csrf_in(&html);
    let r = client()
        .post(s.url(&dismiss))
        .header(COOKIE, &session)
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason", "refund from a supplier"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()[LOCATION].to_str().unwrap().to_owned();
    let (_, html) = page(&s, &session, &to).await;
    assert!(html.contains("dismissed"), "{html}");
    assert!(
        html.contains("1 waiting") && !html.contains("Supplier BV"),
        "{html}"
    );

    let audit = s.state.app.ledger().audit_log(50).unwrap();
    assert!(audit.iter().any(|e| e.action == "payments.unmatched"));
    assert!(audit.iter().any(|e| e.action == "payments.dismiss"));
    s.stop().await;
}
