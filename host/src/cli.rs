//! The command line: `serve`, `demo`, `user`, `plugin`, `backup`, `restore`, `migrate`.

use crate::server::{open_store, shutdown_signal, Server};
use crate::web_args::{server_config, WebArgs};
use crate::Config;
use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use qingguan_core::{Access, ListQuery, NewUser};
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Qingguan (轻管): a self-hosted CRM for small and medium businesses.
#[derive(Debug, Parser)]
#[command(name = "qingguan", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve an existing install.
    Serve(ServeArgs),
    /// Serve a demo company with sample users, customers and contacts (created on first run).
    Demo(DemoArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Write the whole install (database and kept plugin versions) to FILE, consistently, while
    /// the server may run.
    Backup(BackupArgs),
    /// Bring a backup back into an empty data directory, with every plugin as it was.
    Restore(RestoreArgs),
    /// Manage plugins (a running server picks changes up within seconds).
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Copy a whole install from its SQLite file into an empty PostgreSQL database.
    Migrate(MigrateArgs),
}

#[derive(Debug, Args)]
struct MigrateArgs {
    /// `sqlite:PATH`: the data directory (or its qingguan.db) to copy from.
    #[arg(long)]
    from: String,
    /// The PostgreSQL database to copy into (`postgres://user:password@host/database`).
    #[arg(long)]
    to: String,
    /// Leave sessions behind (everyone signs in again).
    #[arg(long)]
    without_sessions: bool,
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// List installed plugins.
    List(DataDirArg),
    /// Install or upgrade a plugin from a .wasm component, or one built into this binary
    /// (`--builtin sales`).
    Install(PluginInstallArgs),
    /// Enable a plugin.
    Enable(PluginIdArgs),
    /// Disable a plugin (data stays).
    Disable(PluginIdArgs),
    /// Return a plugin to the version active before the current one.
    Rollback(PluginIdArgs),
    /// Remove a plugin (data stays unless --purge).
    Remove(PluginRemoveArgs),
    /// Create a new plugin crate.
    New(PluginNewArgs),
    /// Embed a manifest into a component built without the Rust SDK (Python, JavaScript, …).
    Pack(PluginPackArgs),
}

#[derive(Debug, Args)]
struct PluginPackArgs {
    /// The component (.wasm) built by any toolchain.
    component: PathBuf,
    /// Its qingguan.toml.
    #[arg(long)]
    manifest: PathBuf,
    /// Where to write the installable plugin.
    #[arg(short = 'o', long = "output")]
    output: PathBuf,
}

#[derive(Debug, Args)]
struct PluginInstallArgs {
    /// The .wasm component.
    #[arg(required_unless_present = "builtin")]
    file: Option<PathBuf>,
    /// Install a first-party plugin built into this binary instead of a file: sales,
    /// growth_rule, appraisal or inventory.
    #[arg(long, value_name = "NAME", conflicts_with = "file")]
    builtin: Option<String>,
    /// Approve the capabilities the plugin requests.
    #[arg(long)]
    approve: bool,
    #[command(flatten)]
    dir: DataDirArg,
}

#[derive(Debug, Args)]
struct PluginIdArgs {
    /// Plugin id.
    id: String,
    #[command(flatten)]
    dir: DataDirArg,
}

#[derive(Debug, Args)]
struct PluginRemoveArgs {
    /// Plugin id.
    id: String,
    /// Also delete its records, history and key-value store.
    #[arg(long)]
    purge: bool,
    #[command(flatten)]
    dir: DataDirArg,
}

#[derive(Debug, Args)]
struct PluginNewArgs {
    /// Plugin id and crate name.
    name: String,
    /// Where to create the crate (default: the current directory).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// The Qingguan source tree holding plugin-sdk/ (default: the one this binary was built from).
    #[arg(long, env = "QINGGUAN_SOURCE")]
    source: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "QINGGUAN_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory holding the database and plugins.
    #[arg(long, env = "QINGGUAN_DATA_DIR", default_value = "qingguan-data")]
    data_dir: PathBuf,
    /// Keep the install in this PostgreSQL database (`postgres://user:password@host/db`)
    /// instead of the data directory's SQLite file; plugins' files stay in the directory.
    #[arg(long, env = "QINGGUAN_DATABASE", value_name = "URL")]
    database: Option<String>,
    #[command(flatten)]
    web: WebArgs,
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Address to listen on.
    #[arg(long, env = "QINGGUAN_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory for the demo's data (reused if it already holds a demo).
    #[arg(long, env = "QINGGUAN_DEMO_DIR", default_value = "qingguan-demo")]
    data_dir: PathBuf,
    /// Keep the install in this PostgreSQL database (`postgres://user:password@host/db`)
    /// instead of the data directory's SQLite file; plugins' files stay in the directory.
    #[arg(long, env = "QINGGUAN_DATABASE", value_name = "URL")]
    database: Option<String>,
    #[command(flatten)]
    web: WebArgs,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user with a password.
    Add(UserAddArgs),
    /// List users.
    List(DataDirArg),
}

#[derive(Debug, Args)]
struct DataDirArg {
    /// Directory holding the database.
    #[arg(long, env = "QINGGUAN_DATA_DIR", default_value = "qingguan-data")]
    data_dir: PathBuf,
    /// Keep the install in this PostgreSQL database (`postgres://user:password@host/db`)
    /// instead of the data directory's SQLite file; plugins' files stay in the directory.
    #[arg(long, env = "QINGGUAN_DATABASE", value_name = "URL")]
    database: Option<String>,
}

#[derive(Debug, Args)]
struct UserAddArgs {
    /// Login name.
    username: String,
    /// Role: admin, manager, sales, hr, finance, or one you created.
    #[arg(long)]
    role: String,
    /// Name shown in the UI (defaults to the login name).
    #[arg(long)]
    display_name: Option<String>,
    /// Team (for team-scoped roles).
    #[arg(long)]
    team: Option<String>,
    /// E-mail address.
    #[arg(long)]
    email: Option<String>,
    /// Password (at least 8 characters). Prefer --password-stdin or QINGGUAN_PASSWORD.
    #[arg(long, env = "QINGGUAN_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Read the password from standard input.
    #[arg(long, conflicts_with = "password")]
    password_stdin: bool,
    #[command(flatten)]
    dir: DataDirArg,
}

#[derive(Debug, Args)]
struct RestoreArgs {
    /// A file written by `qingguan backup`.
    file: PathBuf,
    #[command(flatten)]
    dir: DataDirArg,
}

#[derive(Debug, Args)]
struct BackupArgs {
    /// Where to write the copy (must not exist).
    file: PathBuf,
    #[command(flatten)]
    dir: DataDirArg,
}

/// Entry point of the binary: parses arguments, runs the command, maps errors to exit codes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QINGGUAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(a) => serve(
            a.listen,
            a.data_dir,
            a.database,
            false,
            server_config(a.web)?,
        ),
        Command::Demo(a) => serve(
            a.listen,
            a.data_dir,
            a.database,
            true,
            server_config(a.web)?,
        ),
        Command::User(UserCommand::Add(a)) => user_add(a),
        Command::User(UserCommand::List(a)) => user_list(a),
        Command::Backup(a) => {
            crate::backup::backup_command(&a.dir.data_dir, a.dir.database.as_deref(), &a.file)
        }
        Command::Restore(a) => {
            crate::backup::restore_command(&a.file, &a.dir.data_dir, a.dir.database.as_deref())
        }
        Command::Plugin(c) => plugin(c),
        Command::Migrate(a) => crate::migrate::migrate(&a.from, &a.to, !a.without_sessions),
    }
}

fn plugin_manager(
    dir: &DataDirArg,
) -> anyhow::Result<std::sync::Arc<qingguan_runtime::PluginManager>> {
    let store = open_store(&dir.data_dir, dir.database.as_deref())?;
    crate::server::open_plugins(store, &dir.data_dir, &Config::default())
}

fn print_plugin(p: &qingguan_runtime::PluginInfo) {
    println!(
        "{:<16} {:<10} {:<9} {}",
        p.id,
        p.version,
        p.status,
        p.error.clone().unwrap_or_default()
    );
}

fn plugin(c: PluginCommand) -> anyhow::Result<()> {
    match c {
        PluginCommand::List(a) => {
            let m = plugin_manager(&a)?;
            println!("{:<16} {:<10} {:<9} error", "id", "version", "status");
            for p in m.list()? {
                print_plugin(&p);
            }
        }
        PluginCommand::Install(a) => plugin_install(a)?,
        PluginCommand::Enable(a) => {
            let m = plugin_manager(&a.dir)?;
            m.load_all()?;
            let p = m
                .enable(&a.id, None)
                .map_err(|e| anyhow::anyhow!("cannot enable '{}': {e}", a.id))?;
            print_plugin(&p);
        }
        PluginCommand::Disable(a) => {
            let m = plugin_manager(&a.dir)?;
            m.load_all()?;
            let p = m
                .disable(&a.id, None)
                .map_err(|e| anyhow::anyhow!("cannot disable '{}': {e}", a.id))?;
            print_plugin(&p);
        }
        PluginCommand::Rollback(a) => {
            let m = plugin_manager(&a.dir)?;
            m.load_all()?;
            let p = m
                .rollback(&a.id, None)
                .map_err(|e| anyhow::anyhow!("cannot roll back '{}': {e}", a.id))?;
            print_plugin(&p);
        }
        PluginCommand::Remove(a) => {
            let m = plugin_manager(&a.dir)?;
            m.load_all()?;
            m.remove(&a.id, a.purge, None)
                .map_err(|e| anyhow::anyhow!("cannot remove '{}': {e}", a.id))?;
            println!(
                "Removed {}{}",
                a.id,
                if a.purge {
                    " and its data"
                } else {
                    " (data kept)"
                }
            );
        }
        PluginCommand::Pack(a) => {
            let component = std::fs::read(&a.component)
                .with_context(|| format!("cannot read {}", a.component.display()))?;
            let manifest = std::fs::read_to_string(&a.manifest)
                .with_context(|| format!("cannot read {}", a.manifest.display()))?;
            let packed = qingguan_runtime::pack(&component, &manifest)
                .with_context(|| format!("cannot pack {}", a.component.display()))?;
            std::fs::write(&a.output, &packed)
                .with_context(|| format!("cannot write {}", a.output.display()))?;
            println!(
                "Packed {} with {} into {} ({} bytes)",
                a.component.display(),
                a.manifest.display(),
                a.output.display(),
                packed.len()
            );
        }
        PluginCommand::New(a) => {
            let source = crate::scaffold::find_source(a.source.as_deref())?;
            let dir = crate::scaffold::new_plugin(&a.name, &a.dir, &source)?;
            println!("Created {}", dir.display());
            println!(
                "  cd {} && cargo test          # builds the component and tests it in-process",
                dir.display()
            );
            println!("  cargo build --release --target wasm32-wasip2");
        }
    }
    Ok(())
}

/// `plugin install FILE` or `plugin install --builtin NAME`.
fn plugin_install(a: PluginInstallArgs) -> anyhow::Result<()> {
    if let Some(name) = &a.builtin {
        // An unknown name is refused before the data directory is opened.
        if crate::builtin::component(name).is_none() {
            bail!(
                "no built-in plugin '{name}'; built in: {}",
                crate::builtin::names().join(", ")
            );
        }
        let m = plugin_manager(&a.dir)?;
        m.load_all()?;
        let p = crate::builtin::install(&m, name, a.approve, None)
            .map_err(|e| anyhow::anyhow!("cannot install the built-in '{name}' plugin: {e}"))?;
        println!("Installed {} {} ({})", p.id, p.version, p.status);
        return Ok(());
    }
    let Some(file) = &a.file else {
        bail!("give a .wasm file or --builtin NAME");
    };
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let m = plugin_manager(&a.dir)?;
    m.load_all()?;
    let p = m
        .install(
            &bytes,
            qingguan_runtime::InstallOptions {
                approve: a.approve,
                source: None,
                by: None,
            },
        )
        .map_err(|e| anyhow::anyhow!("cannot install {}: {e}", file.display()))?;
    println!("Installed {} {} ({})", p.id, p.version, p.status);
    Ok(())
}

fn serve(
    listen: SocketAddr,
    data_dir: PathBuf,
    database: Option<String>,
    demo: bool,
    config: Config,
) -> anyhow::Result<()> {
    let _serving = crate::server::lock_data_dir(&data_dir)?;
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    rt.block_on(async move {
        let store = crate::server::open_store_to_serve(&data_dir, database.as_deref())?;
        let seeded = if demo {
            let s = store.clone();
            tokio::task::spawn_blocking(move || crate::demo::seed_if_empty(&s))
                .await
                .context("demo seeding panicked")??
        } else {
            false
        };
        let server = Server::bind(listen, store.clone(), &data_dir, config).await?;
        if demo {
            let (plugins, s) = (server.state().plugins().clone(), store.clone());
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                plugins.load_all()?;
                crate::builtin::install_all(&plugins)?;
                if seeded {
                    crate::demo::seed_sales(&s)?;
                    crate::demo::seed_inventory(&s, &plugins)?;
                    crate::demo::seed_finance(&s, &plugins)?;
                    // After the books: a rep's collection rate is one of their KPIs.
                    crate::demo::seed_appraisal(&s, &plugins)?;
                    crate::demo::seed_workflows(&s)?;
                    crate::demo::seed_oa(&s)?;
                }
                Ok(())
            })
            .await
            .context("demo setup panicked")??;
        }
        let url = format!("http://{}", server.local_addr());
        if demo {
            println!("Qingguan demo is running at {url}/");
            if seeded {
                println!("Created demo data in {}", data_dir.display());
            }
            println!("API: {url}/api/v1 (OpenAPI: {url}/api/v1/openapi.json)");
            println!("Demo logins (username / password):");
            for (user, pass, role) in crate::demo::LOGINS {
                println!("  {user:<10} / {pass:<10} {role}");
            }
        } else {
            println!("Qingguan is running at {url}/ (data: {})", data_dir.display());
            if store.user_count()? == 0 {
                println!(
                    "No users yet. Create the first administrator at {url}/setup, or:\n  qingguan user add admin --role admin --password-stdin --data-dir {}",
                    data_dir.display()
                );
            }
        }
        server.run(shutdown_signal()).await
    })
}

fn user_add(a: UserAddArgs) -> anyhow::Result<()> {
    let password = match (a.password, a.password_stdin) {
        (Some(p), _) => p,
        (None, true) => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("cannot read the password from standard input")?;
            s.trim_end_matches(['\n', '\r']).to_string()
        }
        (None, false) => {
            bail!("give a password with --password-stdin (or --password, or QINGGUAN_PASSWORD)")
        }
    };
    let store = open_store(&a.dir.data_dir, a.dir.database.as_deref())?;
    let user = store
        .create_user(
            &Access::system(),
            &NewUser {
                username: a.username.clone(),
                display_name: a.display_name,
                password,
                invite: false,
                role: a.role.clone(),
                team: a.team,
                manager: None,
                email: a.email,
                locale: None,
            },
            false,
        )
        .map_err(|e| anyhow::anyhow!("cannot add user '{}': {e}", a.username))?;
    println!(
        "Added user '{}' (id {}) with role '{}'",
        a.username, user.id, a.role
    );
    Ok(())
}

fn user_list(a: DataDirArg) -> anyhow::Result<()> {
    let store = open_store(&a.data_dir, a.database.as_deref())?;
    let mut q = ListQuery::from_pairs([("sort", "username"), ("limit", "200")])?;
    println!(
        "{:<6} {:<20} {:<24} {:<10} {:<10} active",
        "id", "username", "name", "role", "team"
    );
    loop {
        let page = store.list(&Access::system(), "user", &q)?;
        for u in &page.items {
            println!(
                "{:<6} {:<20} {:<24} {:<10} {:<10} {}",
                u.id,
                u.get("username").to_text(),
                u.get("display_name").to_text(),
                u.get("role").to_text(),
                u.get("team").to_text(),
                u.get("active").to_text()
            );
        }
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    Ok(())
}
