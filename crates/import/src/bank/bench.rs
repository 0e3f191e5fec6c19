//! Synthetic camt.053 statements, for benchmarks and tests of size: not for production.

use std::fmt::Write as _;

use super::mod97;

/// A valid camt.053.001.08 document with one statement of `entries` booked credits, each
/// paying with its own valid ISO 11649 reference (`RF…`) from a debtor with an IBAN.
/// The same `seed` gives the same document.
pub fn camt053_example(entries: usize, seed: u64) -> String {
    let mut rng = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1) | 1;
    let mut next = move || {
        // xorshift64*: small, deterministic, good enough for made-up data.
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut s = String::with_capacity(1200 * entries + 1000);
    s.push_str(concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\">\n",
        "<BkToCstmrStmt>\n<GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2024-05-01T06:00:00</CreDtTm></GrpHdr>\n",
        "<Stmt>\n<Id>BENCH-1</Id>\n<Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id><Ccy>EUR</Ccy></Acct>\n",
    ));
    for n in 0..entries {
        let r = next();
        let cents = 100 + r % 1_000_000;
        let reference = creditor_reference(&format!("{}", 10_000_000 + (r >> 20) % 90_000_000));
        let account = format!("{:010}", (r >> 8) % 10_000_000_000);
        let iban = iban("NL", &format!("RABO{account}"));
        let day = 1 + n % 28;
        let _ = write!(
            s,
            "<Ntry>\n<Amt Ccy=\"EUR\">{}.{:02}</Amt>\n<CdtDbtInd>CRDT</CdtDbtInd>\n\
             <Sts><Cd>BOOK</Cd></Sts>\n<BookgDt><Dt>2024-05-{day:02}</Dt></BookgDt>\n\
             <ValDt><Dt>2024-05-{day:02}</Dt></ValDt>\n<AcctSvcrRef>B{n:09}</AcctSvcrRef>\n\
             <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>\n\
             <NtryDtls><TxDtls>\n<Refs><EndToEndId>E{n}</EndToEndId></Refs>\n\
             <Amt Ccy=\"EUR\">{}.{:02}</Amt>\n<CdtDbtInd>CRDT</CdtDbtInd>\n\
             <RltdPties><Dbtr><Pty><Nm>Customer {n}</Nm></Pty></Dbtr>\
             <DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct></RltdPties>\n\
             <RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp>\
             <Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf>\n</TxDtls></NtryDtls>\n</Ntry>\n",
            cents / 100,
            cents % 100,
            cents / 100,
            cents % 100,
        );
    }
    s.push_str("</Stmt>\n</BkToCstmrStmt>\n</Document>\n");
    s
}

/// `RF` + check digits + `body`: a valid ISO 11649 creditor reference.
pub fn creditor_reference(body: &str) -> String {
    let check = 98 - mod97(body.as_bytes(), b"RF00").unwrap_or(0);
    format!("RF{check:02}{body}")
}

/// An IBAN of `country` for the domestic account `bban`, with its check digits.
fn iban(country: &str, bban: &str) -> String {
    let head = format!("{country}00");
    let check = 98 - mod97(bban.as_bytes(), head.as_bytes()).unwrap_or(0);
    format!("{country}{check:02}{bban}")
}
