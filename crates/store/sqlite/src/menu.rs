//! The menu table, and people's own texts read back in bulk (for grouping proposals).

use domain::{Kind, PersonId, Timestamp};
use rusqlite::params;

use store::keys::open_personal;
use store::{MenuItem, StoreError};

use crate::SqliteStore;
use crate::error::Result;

impl SqliteStore {
    pub(super) fn menu_items(&self) -> Result<Vec<MenuItem>> {
        self.conns.read(|c| {
            let mut stmt =
                c.prepare("SELECT item, kind, title, options FROM menu ORDER BY kind, item")?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let options: String = r.get(3)?;
                out.push(MenuItem {
                    item: r.get(0)?,
                    kind: r.get(1)?,
                    title: r.get(2)?,
                    options: serde_json::from_str(&options).map_err(|e| StoreError::Corrupt {
                        message: format!("menu options: {e}"),
                    })?,
                });
            }
            Ok(out)
        })
    }

    pub(super) fn put_menu_item(&self, item: &MenuItem) -> Result<()> {
        let options = serde_json::to_string(&item.options).map_err(|e| StoreError::Corrupt {
            message: format!("menu options: {e}"),
        })?;
        self.conns.writer().execute(
            "INSERT INTO menu (item, kind, title, options, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (item) DO UPDATE SET kind = excluded.kind, title = excluded.title,
                 options = excluded.options, updated_at = excluded.updated_at",
            params![
                item.item,
                item.kind,
                item.title,
                options,
                Timestamp::now().unix()
            ],
        )?;
        Ok(())
    }

    /// Every event of `kind` with sealed fields, opened: person, moment and the fields, in
    /// ledger order of people and time order within each. Forgotten people have none.
    pub(super) fn sealed_of_kind(
        &self,
        kind: Kind,
    ) -> Result<Vec<(PersonId, Timestamp, domain::Personal)>> {
        // A connection of its own: this reads every such event of everyone (every name, for a
        // server's search), and must not hold one that requests wait for meanwhile.
        let own = crate::open_reader(&self.path)?;
        let read =
            |c: &rusqlite::Connection| -> Result<Vec<(PersonId, Timestamp, domain::Personal)>> {
                let mut stmt = c.prepare(
                    "SELECT p.id, e.source, e.id, e.at, s.blob
             FROM events e JOIN people p ON p.pk = e.person JOIN sealed s ON s.seq = e.seq
             WHERE e.kind = ?1 ORDER BY e.person, e.at, e.seq",
                )?;
                let mut rows = stmt.query(params![kind.code()])?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    let person: String = row.get(0)?;
                    // A key or field that does not open is one person's problem (their card says so),
                    // never a reason to fail a list of everyone.
                    let Ok(Some(key)) = self.keys.key(&person) else {
                        continue;
                    };
                    let (source, id): (String, String) = (row.get(1)?, row.get(2)?);
                    let Ok(personal) =
                        open_personal(&key, &source, &id, &row.get::<_, Vec<u8>>(4)?)
                    else {
                        continue;
                    };
                    let person = PersonId::parse(&person).map_err(|e| StoreError::Corrupt {
                        message: e.to_string(),
                    })?;
                    out.push((person, Timestamp::from_unix(row.get(3)?), personal));
                }
                Ok(out)
            };
        read(&own)
    }
}
