//! The command line's shape: every command, flag and help text, in one place.
//!
//! Parsing is clap's job; turning flags into validated values (dates, presets, paths) is done
//! by each command before it touches the ledger, so a typo never half-runs a command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "rapport",
    version,
    about = "A ledger of each relationship, read in both directions: how a person treats the business, and how the business treats them.",
    long_about = None,
    after_help = "Start with `rapport demo`, then `rapport people` and `rapport card P-000001`.\nDocumentation: README.md and docs/ in the repository."
)]
pub struct Cli {
    /// The ledger: a SQLite file (its key vault and master key live beside it), or a
    /// PostgreSQL database as a postgres:// URL.
    #[arg(
        long,
        global = true,
        env = "RAPPORT_DB",
        default_value = "rapport.db",
        value_name = "FILE|URL"
    )]
    pub db: String,

    /// Who is acting, as the audit log names them (`cli:NAME`); default the operating-system
    /// user.
    #[arg(long, global = true, env = "RAPPORT_ACTOR", value_name = "NAME")]
    pub actor: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new, empty ledger with its key vault and master key.
    Init(InitArgs),
    /// Import events from JSON Lines, CSV through a mapping file or preset, e-invoices (UBL,
    /// CII), bank statements (camt.053, MT940) or a mailbox (mbox, .eml).
    Import(ImportArgs),
    /// Every person with their readings, as a table or JSON Lines.
    People(PeopleArgs),
    /// One person: their own words first, then both directions side by side.
    Card(CardArgs),
    /// Bring the kept readings up to date now: the people written to since, those whose
    /// readings move by themselves today (an invoice falls due), and those who depend on
    /// them. Every command and the server do this by themselves; this says what it did.
    Refresh(RefreshArgs),
    /// Recompute everyone's readings from the events and compare them with the kept
    /// readings, to the last digit (for operators after an upgrade). Exit 1 if any differ.
    Check(CheckArgs),
    /// Fit a customer-base model on the ledger or a summary CSV: repeat buying (BG/NBD,
    /// Pareto/NBD, MBG/NBD, GGompertz/NBD, Gamma-Gamma), discrete opportunities (BG/BB) or
    /// contract retention (sBG, BdW).
    Fit(FitArgs),
    /// Write what the ledger knows about each person that a purchase model may take as
    /// static covariates (buys for an organisation, was referred, language, first purchase
    /// day's amount), as a CSV for `rapport fit --covariates`.
    Covariates(CovariatesArgs),
    /// Build a demo ledger of a few thousand realistic people, and show where to look.
    Demo(DemoArgs),
    /// Write generated events as JSON Lines (for benchmarks and experiments).
    Generate(GenerateArgs),
    /// Serve the web pages and the JSON API over the ledger (Ctrl-C stops it).
    Serve(ServeArgs),
    /// Make, list and revoke the tokens people sign in and call the API with.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The business's menu: what people can choose from (items with options).
    #[command(subcommand)]
    Menu(MenuCommand),
    /// Print a link to a person's own page, signed and valid for a while.
    Link(LinkArgs),
    /// May we contact this person now on this channel about this topic? (exit 0 yes, 1 no,
    /// 2 an unknown person or bad input)
    #[command(
        after_help = "Exit status: 0 yes, 1 no, 2 the question could not be answered (an unknown person, an empty channel…).\nWhich purposes need consent first: `rapport settings opt-in`. See docs/web.md, may-contact."
    )]
    MayContact(MayContactArgs),
    /// The business's settings kept in the ledger: which purposes need consent before any
    /// outreach (opt-in).
    Settings(SettingsArgs),
    /// Everything held about a person, unsealed, with the readings, as one JSON document.
    Export(ExportArgs),
    /// Forget a person for good: their key, their events and their name in the audit log.
    /// Later imports skip their events.
    Forget(ForgetArgs),
    /// Re-wrap every person key under a new master key, so that backups taken before can be
    /// made unreadable by destroying the old key.
    Rekey(RekeyArgs),
    /// Accept events again for a forgotten person who came back and asked to be known again
    /// (as a new person: nothing of the old history returns).
    WelcomeBack(WelcomeBackArgs),
    /// The scripts the business answers people with: near-identical answers sent to more
    /// than five people, with how many received each, when, and who sent it.
    Scripts(ScriptsArgs),
    /// The product catalogue of hidden costs: import it from CSV, or list it.
    #[command(subcommand)]
    Catalogue(CatalogueCommand),
    /// Spread people over PostgreSQL servers: the ledger's partitions, the servers they live
    /// on, and moving one online (docs/sharding.md).
    #[command(subcommand)]
    Shards(ShardsCommand),
    /// Bank credits no rule could place on an invoice: list them, place one on an invoice by
    /// hand, or dismiss one that pays none (docs/sources.md).
    #[command(subcommand)]
    Payments(PaymentsCommand),
    /// Hidden costs of the ledger's orders (CO2e, water, packaging…) beside the money.
    #[command(
        after_help = "Returns are netted. Lines whose product has no figure are counted and listed, never taken as zero. See docs/costs.md."
    )]
    Costs(CostsArgs),
}

#[derive(Debug, Subcommand)]
pub enum CatalogueCommand {
    /// Replace the whole catalogue: rapport catalogue import products.csv --factors factors.csv
    Import(CatalogueImportArgs),
    /// Every factor (unit, source) and every product with its figures.
    List(CatalogueListArgs),
}

#[derive(Debug, Args)]
pub struct CatalogueImportArgs {
    /// Products: an id column (product, product_id, id, sku, StockCode or code), an optional
    /// name column, and one column per factor with the figure for one unit (empty = unknown).
    pub products: PathBuf,
    /// The factors: columns factor, unit, source; one row per factor.
    #[arg(long)]
    pub factors: PathBuf,
}

#[derive(Debug, Args)]
pub struct CatalogueListArgs {
    /// The catalogue as one JSON document.
    #[arg(long)]
    pub json: bool,
    /// Show every factor's column, however wide.
    #[arg(long)]
    pub wide: bool,
}

#[derive(Debug, Args)]
pub struct CostsArgs {
    /// A table per person, product, month (UTC) or order instead of the summary.
    #[arg(long, value_parser = ["person", "product", "month", "order"])]
    pub by: Option<String>,
    /// Show at most N groups (months in order; otherwise the largest first by the first factor).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// The whole report as one JSON document: totals, groups and unmatched products.
    #[arg(long)]
    pub json: bool,
    /// Show every column, however wide (tables otherwise fit the terminal, or COLUMNS).
    #[arg(long)]
    pub wide: bool,
}

#[derive(Debug, Subcommand)]
pub enum MenuCommand {
    /// Add an item: rapport menu add channel.email --kind channel --title "E-mail" --option yes=Yes --option no=No
    #[command(
        override_usage = "rapport menu add <ITEM> --kind <KIND> --title <TITLE>\n       --option <ID=TITLE>..."
    )]
    Add(MenuItemArgs),
    /// Change an item: its kind, title, or options (given options replace the old ones).
    Edit(MenuEditArgs),
    /// Every item with its options.
    List(MenuListArgs),
}

#[derive(Debug, Args)]
pub struct MenuItemArgs {
    /// The item's id as `menu.chosen` events name it (see docs/readings.md for the ids that
    /// govern contact: channel, channel.NAME, topic.NAME, frequency).
    pub item: String,
    /// product, service, channel, frequency, topic or other.
    #[arg(long)]
    pub kind: String,
    #[arg(long)]
    pub title: String,
    /// An option as id=Title (or just id); repeat for each.
    #[arg(long = "option", value_name = "ID=TITLE", required = true)]
    pub options: Vec<String>,
}

#[derive(Debug, Args)]
pub struct MenuEditArgs {
    pub item: String,
    #[arg(long)]
    pub kind: Option<String>,
    #[arg(long)]
    pub title: Option<String>,
    /// Replace the options: id=Title, repeated.
    #[arg(long = "option", value_name = "ID=TITLE")]
    pub options: Vec<String>,
}

#[derive(Debug, Args)]
pub struct MenuListArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LinkArgs {
    pub person: String,
    /// Days the link stays valid.
    #[arg(long, default_value_t = 14)]
    pub valid: i64,
    /// Where the server is reached, for the printed link.
    #[arg(long, default_value = "http://127.0.0.1:7878")]
    pub base: String,
}

#[derive(Debug, Args)]
pub struct MayContactArgs {
    pub person: String,
    /// email, phone, post, chat, …
    #[arg(long)]
    pub channel: String,
    /// What the contact is about (also the consent purpose), e.g. newsletter.
    #[arg(long)]
    pub topic: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// Without a setting: every setting with its value.
    #[command(subcommand)]
    pub setting: Option<Setting>,
}

#[derive(Debug, Subcommand)]
pub enum Setting {
    /// Which purposes need the person's consent before any outreach about them (opt-in):
    /// show them, or give new ones. Every other purpose may be contacted about until the
    /// person says no.
    #[command(
        after_help = "Examples:\n  rapport settings opt-in                        # show them\n  rapport settings opt-in newsletter,marketing,surveys\n  rapport settings opt-in none                   # no purpose needs consent first\n  rapport settings opt-in default                # back to marketing,newsletter"
    )]
    OptIn(OptInArgs),
}

#[derive(Debug, Args)]
pub struct OptInArgs {
    /// Purposes separated by commas (newsletter,marketing), `none`, or `default`
    /// (marketing,newsletter).
    pub purposes: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    pub person: String,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ForgetArgs {
    pub person: String,
    /// Confirm: this cannot be undone.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct RekeyArgs {
    /// Print the new key once instead of writing it to the key file (keep it safe and pass it
    /// as RAPPORT_MASTER_KEY from now on).
    #[arg(long)]
    pub print_key: bool,
    /// Confirm: from now on only the new key opens the ledger.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct WelcomeBackArgs {
    pub person: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:7878", value_name = "ADDR:PORT")]
    pub bind: String,

    /// Seconds within which lists and charts follow new events (the kept readings of the
    /// people written to are brought up to date; cards are always current).
    #[arg(long, default_value_t = 2, value_name = "SECONDS")]
    pub refresh: u64,

    /// Largest request body in MiB (larger ones get 413).
    #[arg(long, default_value_t = 16, value_name = "MIB")]
    pub body_limit: usize,

    /// Mark session cookies Secure even when no proxy says the request came over HTTPS.
    #[arg(long)]
    pub secure_cookies: bool,

    /// Serve a ledger that ended in the past as of the end of this day (YYYY-MM-DD): lists,
    /// charts, trends, movers and cards as they stood then. The kept readings are kept for
    /// that day while this server runs (another command brings them back to today).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ShardsCommand {
    /// Add a server partitions may move to: an existing, empty PostgreSQL database, as a
    /// postgres:// URL (its password, if any, is kept in the coordinator's user mapping).
    Add(ShardsAddArgs),
    /// Every partition: on which server, how many people and events, how many bytes.
    List(ShardsListArgs),
    /// Move a partition to another server while the ledger stays in use: writers wait only
    /// for the final catch-up and the switch, readers not at all.
    Move(ShardsMoveArgs),
}

#[derive(Debug, Args)]
pub struct ShardsAddArgs {
    /// The server's database, e.g. postgres://rapport@db2.example:5432/rapport.
    pub url: String,
    /// The ledger's name for it (default s1, s2, …).
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct ShardsListArgs {
    /// One JSON document: the servers and every partition.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShardsMoveArgs {
    /// The partition's number, from `rapport shards list`.
    pub partition: u32,
    /// The server's name from `rapport shards list`, or `coordinator` to bring it back.
    pub server: String,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (once: only its hash is kept).
    Create(TokenCreateArgs),
    /// List every token: number, name, role, when made, whether revoked.
    List,
    /// Revoke a token by its number; its browser sessions end at once.
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// admin (everything, tokens, audit), agent (cards) or analyst (figures, no personal text).
    #[arg(long, value_parser = ["admin", "agent", "analyst"])]
    pub role: String,

    /// Who will use it (shown in the audit log); default the role.
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// The token's number, from `rapport token list`.
    pub id: i64,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Print the new master key instead of writing the key file (store it yourself and
    /// pass it as RAPPORT_MASTER_KEY).
    #[arg(long)]
    pub print_key: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files to import. `.jsonl`/`.ndjson`/`.json` are canonical events; e-invoices, bank
    /// statements and mailboxes are recognised by their contents (a folder or a zip of them
    /// counts as one file); anything else needs --mapping or --preset.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,

    /// A mapping file (TOML) that turns CSV rows into events (see docs/mapping.md).
    #[arg(long, conflicts_with = "preset")]
    pub mapping: Option<PathBuf>,

    /// A built-in mapping: transactions, invoices or messages (a message log; replies that
    /// name only the message they answer are filed under the person who asked).
    #[arg(long)]
    pub preset: Option<String>,

    /// Override a mapping setting, e.g. `--set person=CustomerID --set delimiter=";"`. When
    /// a CSV import went through but looks wrong (brands read as people, answers matching no
    /// question, most rows making nothing), a warning names the --set that would change it.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,

    /// Treat every file as this format, whatever its name or contents.
    #[arg(long, value_parser = ["jsonl", "csv", "einvoice", "camt053", "mt940", "mail"])]
    pub format: Option<String>,

    /// The business's own mail addresses, for a mailbox: a whole address
    /// (`--ours support@example.com`) or a whole domain (`--ours @example.com`). Mail from
    /// them answers; mail from anyone else asks.
    #[arg(long, value_name = "ADDRESS|@DOMAIN")]
    pub ours: Vec<String>,

    /// Days to pay an e-invoice that has neither a due date nor payment terms that state a
    /// number of days.
    #[arg(long, value_name = "DAYS")]
    pub due_days: Option<u32>,

    /// Import the valid rows and write each rejected row with its reason to --rejects.
    /// Without it, a file with any invalid row is not imported at all.
    #[arg(long)]
    pub skip_invalid: bool,

    /// Where --skip-invalid writes rejected rows (JSON Lines).
    #[arg(long, default_value = "rejected.jsonl")]
    pub rejects: PathBuf,

    /// Leave bringing the readings of the people imported up to date to the next command
    /// that reads them, a running server, or `rapport refresh` (for many imports in a row).
    #[arg(long)]
    pub no_refresh: bool,

    /// Print the built-in mapping of a preset and exit (a starting point for your own).
    #[arg(long, value_name = "PRESET", exclusive = true, num_args = 0..=1, default_missing_value = "")]
    pub show_preset: Option<String>,
}

#[derive(Debug, Args)]
pub struct PeopleArgs {
    /// Sort by a reading's field, e.g. punctuality.on_time_share (people without it last).
    #[arg(long, value_name = "READING.FIELD")]
    pub sort: Option<String>,

    /// Sort from high to low.
    #[arg(long, requires = "sort")]
    pub desc: bool,

    /// Only people with overdue invoices (overdue), likely to leave (leaving: less than an
    /// even chance they still buy) or with unanswered questions (unanswered). Repeatable.
    #[arg(long, value_name = "NAME", value_parser = ["overdue", "leaving", "unanswered"])]
    pub filter: Vec<String>,

    /// Only people whose field lies in a range, e.g. punctuality.on_time_share=..0.5 or
    /// heard.open_questions=2.. (shares and chances from 0 to 1). Repeatable; someone
    /// without the field never matches.
    #[arg(long = "where", value_name = "FIELD=MIN..MAX")]
    pub ranges: Vec<String>,

    /// Show at most N people. On a terminal the table stops at a screenful unless --all or
    /// --limit is given; piped, it shows everyone.
    #[arg(long, value_name = "N", conflicts_with = "all")]
    pub limit: Option<usize>,

    /// Show everyone, even on a terminal.
    #[arg(long)]
    pub all: bool,

    /// Show every column, however wide (the table otherwise fits the terminal's width, or
    /// COLUMNS when set, and says how many columns it left out).
    #[arg(long)]
    pub wide: bool,

    /// Readings as of this day (YYYY-MM-DD, the end of that day) or moment (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,

    /// One JSON object per line: {"person": ID, "readings": {...}}, every figure at full
    /// precision (the table rounds for reading).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Recompute everyone's kept readings from their events, not only those who need it
    /// (after `rapport check` found a difference).
    #[arg(long)]
    pub everyone: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Show at most N differences.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct ScriptsArgs {
    /// List at most N scripts, the most widely sent first.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,

    /// One JSON document: the totals and the scripts with their masked text.
    #[arg(long)]
    pub json: bool,

    /// Regroup every answer from its sealed text first (never needed after imports, which
    /// group their own answers, nor after upgrading rapport: a ledger indexed by an earlier
    /// way of masking regroups once by itself when first opened).
    #[arg(long)]
    pub regroup: bool,
}

#[derive(Debug, Args)]
pub struct CardArgs {
    /// The person's id.
    pub person: String,

    /// Readings as of this day (YYYY-MM-DD) or moment (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,

    /// The whole card as one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many people.
    #[arg(long, default_value_t = 3000)]
    pub people: usize,

    /// The generator's seed: the same seed builds the same ledger.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Only build the ledger; do not serve it afterwards.
    #[arg(long)]
    pub no_serve: bool,

    /// Where to serve the demo.
    #[arg(long, default_value = "127.0.0.1:7878", value_name = "ADDR:PORT")]
    pub bind: String,
}

#[derive(Debug, Args)]
pub struct CovariatesArgs {
    /// Read the ledger as it stood at this moment (a day, or an RFC 3339 moment), so that a
    /// fit on a calibration period sees nothing later; default now.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,

    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many people.
    #[arg(long, default_value_t = 1000)]
    pub people: usize,

    /// The generator's seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// The last day of the generated history (YYYY-MM-DD); default today.
    #[arg(long, value_name = "DATE")]
    pub end: Option<String>,

    /// How many years of history each ledger spans (longer histories, more events a person).
    #[arg(long, default_value_t = 3)]
    pub years: u32,

    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Default, Args)]
pub struct FitArgs {
    /// The model. Purchases in continuous time, per person: bgnbd, pareto-nbd, mbgnbd,
    /// ggompertz-nbd; spend per purchase: gamma-gamma. Transactions at discrete opportunities
    /// (yearly donations, annual events): bgbb, on a pattern file or on the ledger's
    /// calendar periods (see --opportunity). Contract retention: sbg, bdw, on a file or on the ledger's contracts
    /// (one model per length of period, stored for the cards).
    #[arg(long, required_unless_present = "compare", value_parser = [
        "bgnbd", "pareto-nbd", "gamma-gamma", "mbgnbd", "ggompertz-nbd", "bgbb", "sbg", "bdw",
    ])]
    pub model: Option<String>,

    /// Which model fits this business: fit every model for the ledger's kind of relationship
    /// (contracts: sbg and bdw; orders and invoices: bgnbd, mbgnbd, pareto-nbd,
    /// ggompertz-nbd; both when the ledger holds both) on the calibration period, score each
    /// on the holdout (log-likelihood of what then happened, per-person error, the two
    /// charts with --plot) and recommend one. Needs --calibration-end and --holdout-end;
    /// stores nothing unless --use.
    #[arg(
        long,
        conflicts_with_all = ["model", "summary", "predict", "periods", "discount_rate"],
        requires_all = ["calibration_end", "holdout_end"]
    )]
    pub compare: bool,

    /// With --compare: fit the recommended model(s) on the whole ledger, up to --as-of or
    /// now, and store them, so that cards use them from then on.
    #[arg(long = "use", requires = "compare")]
    pub use_best: bool,

    /// Fit on a CSV file instead of the ledger; nothing is stored. Per person
    /// (frequency,recency,T[,monetary_value] or x,t_x,T[,zbar]) for the purchase and spend
    /// models; per pattern (frequency,recency,periods[,weights] or x,t_x,n[,count]) for bgbb;
    /// for sbg/bdw survivors per period, one column per cohort (year,regular,highend with
    /// year 0 the cohort size), or one row per customer (periods,churned). A row no model can
    /// take is an error at its line; on the ledger, such a person is left out and named.
    #[arg(long, value_name = "FILE.csv")]
    pub summary: Option<PathBuf>,

    /// Last day of the calibration period (YYYY-MM-DD, inclusive); default --as-of or now.
    #[arg(long, value_name = "DATE", conflicts_with = "summary")]
    pub calibration_end: Option<String>,

    /// The moment the calibration ends when --calibration-end is not given.
    #[arg(long, value_name = "DATE", conflicts_with = "summary")]
    pub as_of: Option<String>,

    /// Time unit of the summaries built from the ledger, and so of alpha/beta and horizons.
    #[arg(long, value_parser = ["days", "weeks"], default_value = "weeks", conflicts_with = "summary")]
    pub unit: String,

    /// Also print, per person, p_alive, expected purchases in the next HORIZON time units
    /// and (gamma-gamma) expected spend. bgbb: per pattern (per person on the
    /// ledger), p_alive and expected transactions in the next HORIZON opportunities. sbg/bdw: per cohort, the projected
    /// survival up to HORIZON periods past the file's last, beside the actual survivors,
    /// with retention rates and DERL; on the ledger, per running contract, the chance it
    /// renews, that it still runs HORIZON periods on, and DERL. For bgbb, sbg and bdw
    /// HORIZON is a whole number.
    #[arg(long, value_name = "HORIZON")]
    pub predict: Option<f64>,

    /// sbg/bdw: fit on periods 0..N of the file only, so the later periods check the
    /// projection.
    #[arg(long, value_name = "N", requires = "summary")]
    pub periods: Option<u32>,

    /// bgbb, sbg, bdw: discount rate per period (or opportunity) for DERT and DERL;
    /// default 0.1 on a file, and on the ledger 10 % a year turned into the contracts'
    /// period.
    #[arg(long, value_name = "RATE")]
    pub discount_rate: Option<f64>,

    /// bgbb on the ledger: how often people can transact — each calendar year (default),
    /// quarter, month or week after their first transaction is one opportunity, and one
    /// with any order or invoice counts as a transaction.
    #[arg(
        long,
        value_name = "PERIOD",
        default_value = "year",
        conflicts_with = "summary"
    )]
    pub opportunity: String,

    /// Check the fit against a holdout period ending on this day (ledger only).
    #[arg(
        long,
        value_name = "DATE",
        conflicts_with = "summary",
        requires = "calibration_end"
    )]
    pub holdout_end: Option<String>,

    /// Write the calibration/holdout chart to this SVG file (needs --holdout-end).
    #[arg(long, value_name = "FILE.svg", requires = "holdout_end")]
    pub plot: Option<PathBuf>,

    /// pareto-nbd and bgnbd: give each person their own purchase and dropout parameters from
    /// their attributes in this CSV file (one id column named as the summary's, or id, person
    /// or customer, and one column of numbers per attribute; a row for every person fitted).
    /// The links are CLVTools' static covariates (docs/models.md, Covariates). `ledger`
    /// takes the attributes the ledger holds as of the calibration end (`rapport
    /// covariates` shows them). Not stored.
    #[arg(long, value_name = "FILE.csv", conflicts_with = "compare")]
    pub covariates: Option<PathBuf>,

    /// With --covariates: the columns acting on dropout, separated by commas, or none
    /// (default: every column).
    #[arg(long, value_name = "COLUMNS", requires = "covariates")]
    pub life: Option<String>,

    /// With --covariates: the columns acting on purchasing, separated by commas, or none
    /// (default: every column).
    #[arg(long, value_name = "COLUMNS", requires = "covariates")]
    pub trans: Option<String>,

    /// JSON Lines: the fit (sbg/bdw: one line per cohort), then the holdout check and the
    /// predictions if asked.
    #[arg(long)]
    pub json: bool,
}

impl Command {
    /// The exit status when the command fails: 2 for may-contact, whose 1 means "no" and so
    /// cannot also mean "could not answer"; 1 for every other command.
    pub fn failure_code(&self) -> u8 {
        match self {
            Command::MayContact(_) => 2,
            _ => 1,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum PaymentsCommand {
    /// The bank credits waiting for a person, oldest first, each with why no rule placed it.
    Unmatched(UnmatchedArgs),
    /// Place a waiting credit on an open invoice: the payment is stored as matched by hand.
    Resolve(ResolveArgs),
    /// Decide that a waiting credit pays no invoice (a refund from a supplier…).
    Dismiss(DismissArgs),
}

#[derive(Debug, Args)]
pub struct UnmatchedArgs {
    /// Show at most this many.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// As JSON Lines, one credit per line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// The credit's number, as `rapport payments unmatched` shows it.
    pub line: i64,
    /// The invoice it pays.
    #[arg(long)]
    pub invoice: String,
    /// Whose invoice, when two people have one with that number.
    #[arg(long)]
    pub person: Option<String>,
}

#[derive(Debug, Args)]
pub struct DismissArgs {
    /// The credit's number, as `rapport payments unmatched` shows it.
    pub line: i64,
    /// Why it pays no invoice.
    #[arg(long)]
    pub reason: String,
}
