#!/usr/bin/env python3
"""Writes the artefacts bench/sources.sh times (docs/performance.md, "Sources").

    bench/sources_gen.py OUT INVOICES MBOX_MB

OUT/invoices/      INVOICES UBL invoices (Peppol BIS 3.0 shape), 1 per file, over
                   INVOICES/5 buyers, each with an ISO 11649 payment reference;
OUT/statement.xml  one camt.053.001.08 with a credit for every invoice: 70 % quoting the
                   reference, 20 % the invoice number in the text, 10 % neither (they wait);
OUT/support.mbox   question-and-reply threads until the file is MBOX_MB megabytes.
"""
import os
import random
import sys


def rf(body: str) -> str:
    """An ISO 11649 creditor reference for `body` (alphanumerics)."""
    digits = "".join(str(int(c, 36)) for c in (body + "RF00").upper())
    check = 98 - int(digits) % 97
    return f"RF{check:02d}{body}"


INVOICE = """<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>{issued}</cbc:IssueDate>
  <cbc:DueDate>{due}</cbc:DueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cac:AccountingSupplierParty><cac:Party><cbc:EndpointID schemeID="0106">12345678</cbc:EndpointID>
    <cac:PartyLegalEntity><cbc:RegistrationName>Koffie en Co</cbc:RegistrationName></cac:PartyLegalEntity></cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cbc:EndpointID schemeID="0106">{buyer}</cbc:EndpointID>
    <cac:PartyIdentification><cbc:ID>CUST-{buyer}</cbc:ID></cac:PartyIdentification>
    <cac:PartyLegalEntity><cbc:RegistrationName>Klant {buyer}</cbc:RegistrationName></cac:PartyLegalEntity>
    <cac:Contact><cbc:ElectronicMail>klant{buyer}@example.org</cbc:ElectronicMail></cac:Contact>
  </cac:Party></cac:AccountingCustomerParty>
  <cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode><cbc:PaymentID>{ref}</cbc:PaymentID></cac:PaymentMeans>
  <cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID="EUR">{amount}</cbc:LineExtensionAmount><cbc:PayableAmount currencyID="EUR">{amount}</cbc:PayableAmount></cac:LegalMonetaryTotal>
  <cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="C62">{qty}</cbc:InvoicedQuantity><cbc:LineExtensionAmount currencyID="EUR">{amount}</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Coffee beans</cbc:Name><cac:SellersItemIdentification><cbc:ID>BEANS-{item}</cbc:ID></cac:SellersItemIdentification></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">{price}</cbc:PriceAmount></cac:Price></cac:InvoiceLine>
</Invoice>
"""


def main() -> None:
    out, n, mbox_mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rnd = random.Random(1)
    folder = os.path.join(out, "invoices")
    os.makedirs(folder, exist_ok=True)
    invoices = []
    for i in range(n):
        number = f"INV-{i + 1:07d}"
        buyer = 100000 + i % max(1, n // 5)
        qty = rnd.randint(1, 9)
        price = rnd.randint(500, 9000)
        amount = qty * price
        month, day = 1 + i % 12, 1 + i % 28
        ref = rf(f"{i + 1:09d}")
        invoices.append((number, buyer, amount, ref))
        path = os.path.join(folder, f"{i // 1000:03d}", f"{number}.xml")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(INVOICE.format(number=number, issued=f"2024-{month:02d}-{day:02d}",
                                   due=f"2024-{month:02d}-{day:02d}", buyer=buyer, ref=ref,
                                   amount=f"{amount / 100:.2f}", qty=qty, price=f"{price / 100:.2f}",
                                   item=i % 50))
    with open(os.path.join(out, "statement.xml"), "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
                '<GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2025-01-02T06:00:00</CreDtTm></GrpHdr><Stmt><Id>BENCH-1</Id>'
                '<Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id><Ccy>EUR</Ccy></Acct>\n')
        for i, (number, buyer, amount, ref) in enumerate(invoices):
            kind = i % 10
            strd = f"<Strd><CdtrRefInf><Ref>{ref}</Ref></CdtrRefInf></Strd>" if kind < 7 else ""
            ustrd = f"<Ustrd>betaling factuur {number}</Ustrd>" if 7 <= kind < 9 else "<Ustrd>bedankt</Ustrd>" if kind == 9 else ""
            f.write(f'<Ntry><Amt Ccy="EUR">{amount / 100:.2f}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
                    f'<BookgDt><Dt>2024-12-{1 + i % 28:02d}</Dt></BookgDt><AcctSvcrRef>BENCH-{i}</AcctSvcrRef>'
                    f'<NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>Klant {buyer}</Nm></Pty></Dbtr>'
                    f'<DbtrAcct><Id><IBAN>NL{10 + buyer % 89:02d}BANK{buyer:010d}</IBAN></Id></DbtrAcct></RltdPties>'
                    f'<RmtInf>{ustrd}{strd}</RmtInf></TxDtls></NtryDtls></Ntry>\n')
        f.write("</Stmt></BkToCstmrStmt></Document>\n")
    words = ("koffie bonen machine levering factuur vraag graag snel dank molen filter "
             "retour pakket kapot water lekt service afspraak maandag dinsdag").split()
    limit = mbox_mb * 1_000_000
    with open(os.path.join(out, "support.mbox"), "w") as f:
        t = 0
        while f.tell() < limit:
            who = 100000 + t % max(1, n // 5)
            body = " ".join(rnd.choice(words) for _ in range(rnd.randint(100, 600)))
            day = 1 + t % 28
            f.write(f"From klant{who}@example.org Mon Jan {day:2d} 09:00:00 2024\n"
                    f"From: Klant {who} <klant{who}@example.org>\nTo: support@koffie.example\n"
                    f"Subject: Vraag {t}\nDate: Mon, {day} Jan 2024 09:00:00 +0000\n"
                    f"Message-ID: <q{t}@example.org>\nContent-Type: text/plain; charset=utf-8\n\n"
                    f"{body}\n\n")
            f.write(f"From support@koffie.example Mon Jan {day:2d} 11:00:00 2024\n"
                    f"From: Koffie en Co <support@koffie.example>\nTo: klant{who}@example.org\n"
                    f"Subject: Re: Vraag {t}\nDate: Mon, {day} Jan 2024 11:00:00 +0000\n"
                    f"Message-ID: <a{t}@koffie.example>\nIn-Reply-To: <q{t}@example.org>\n"
                    f"References: <q{t}@example.org>\nContent-Type: text/plain; charset=utf-8\n\n"
                    f"Beste klant, dank voor je vraag over {rnd.choice(words)}. We sturen het vandaag.\n\n"
                    f"> {body[:200]}\n-- \nKoffie en Co\n\n")
            t += 1


if __name__ == "__main__":
    main()
