//! Demo inventory (进销存), made through the inventory plugin as users would: two warehouses,
//! suppliers and products, purchase orders approved and received over the last two months,
//! sales orders made from won deals, confirmed and (mostly) delivered.

use anyhow::{anyhow, Context};
use qingguan_core::{Access, FieldRule, ListQuery, Record, Store};
use qingguan_runtime::{CallCtx, PluginManager};
use serde_json::{json, Value};

fn create(store: &Store, entity: &str, v: Value) -> anyhow::Result<Record> {
    let map = v.as_object().cloned().unwrap_or_default();
    store
        .create(&Access::system(), entity, &map)
        .with_context(|| format!("demo {entity}"))
}

fn act(
    plugins: &PluginManager,
    ctx: &CallCtx,
    entity: &str,
    id: i64,
    action: &str,
    input: Value,
) -> anyhow::Result<()> {
    plugins
        .calls()
        .action(
            "inventory",
            action,
            entity,
            id,
            &input.to_string(),
            ctx.clone(),
        )
        .map_err(|e| anyhow!("demo {action} of {entity} {id}: {e:?}"))?;
    Ok(())
}

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

/// `(sku, name, unit, purchase price, sale price, reorder point)`.
const PRODUCTS: [(&str, &str, &str, &str, &str, &str); 6] = [
    ("ERP-STD", "ERP 标准版授权", "set", "12000", "19800", "2"),
    ("SRV-R740", "服务器 R740", "pcs", "28000", "36500", "3"),
    ("SW-24P", "24 口交换机", "pcs", "1800", "2600", "10"),
    ("UPS-3K", "UPS 不间断电源 3kVA", "pcs", "3200", "4500", "4"),
    ("CBL-CAT6", "六类网线（箱）", "box", "420", "680", "20"),
    ("SVC-DAY", "实施服务（人天）", "set", "800", "1500", "0"),
];

/// A round of purchasing: days ago, supplier, warehouse, `(product, quantity, price)` lines.
type Round<'a> = (i64, &'a Record, i64, &'a [(usize, &'a str, &'a str)]);

/// Seeds the demo's inventory; `admin` posts, the deal's owner owns the sales orders.
pub fn seed_inventory(store: &Store, plugins: &PluginManager) -> anyhow::Result<()> {
    let admin = store
        .user_id("admin")?
        .ok_or_else(|| anyhow!("the demo has no admin"))?;
    let ctx = CallCtx::for_user(store, admin)?;
    let sh = create(
        store,
        "warehouse",
        json!({"code": "SH", "name": "上海总仓"}),
    )?;
    let bj = create(
        store,
        "warehouse",
        json!({"code": "BJ", "name": "北京门店"}),
    )?;
    let suppliers = [
        create(
            store,
            "supplier",
            json!({"name": "华东电子设备有限公司", "contact": "周经理", "phone": "+86 21 5555 0101"}),
        )?,
        create(
            store,
            "supplier",
            json!({"name": "北方软件服务有限公司", "contact": "孙小姐", "phone": "+86 10 5555 0202"}),
        )?,
    ];
    let products: Vec<Record> = PRODUCTS
        .iter()
        .map(|(sku, name, unit, buy, sell, reorder)| {
            create(
                store,
                "product",
                json!({"sku": sku, "name": name, "unit": unit, "category": "IT", "purchase_price": buy,
                       "sale_price": sell, "tax_rate": "13", "reorder_point": reorder}),
            )
        })
        .collect::<anyhow::Result<_>>()?;
    // Purchases: two rounds into Shanghai (the second at other prices, so averages move),
    // one into Beijing.
    let rounds: [Round; 3] = [
        (
            -60,
            &suppliers[0],
            sh.id,
            &[
                (1, "10", "28000"),
                (2, "40", "1800"),
                (3, "12", "3200"),
                (4, "80", "420"),
            ],
        ),
        (
            -45,
            &suppliers[1],
            sh.id,
            &[(0, "8", "12000"), (5, "100", "800"), (1, "6", "27500")],
        ),
        (
            -40,
            &suppliers[0],
            bj.id,
            &[(2, "15", "1850"), (4, "30", "430")],
        ),
    ];
    for (offset, supplier, warehouse, lines) in rounds {
        let po = create(
            store,
            "purchase_order",
            json!({"supplier": supplier.id, "warehouse": warehouse, "ordered_on": day(offset - 7)}),
        )?;
        for (p, qty, price) in lines {
            create(
                store,
                "purchase_line",
                json!({"order": po.id, "product": products[*p].id, "quantity": qty, "price": price}),
            )?;
        }
        act(plugins, &ctx, "purchase_order", po.id, "approve", json!({}))?;
        act(
            plugins,
            &ctx,
            "purchase_order",
            po.id,
            "receive",
            json!({"date": day(offset)}),
        )?;
    }
    // Sales: orders from recent won deals, confirmed; the older ones delivered.
    let won = store
        .list(
            &Access::system(),
            "deal",
            &ListQuery::from_pairs([("stage", "won"), ("sort", "-closed_on"), ("limit", "12")])?,
        )?
        .items;
    for (n, deal) in won.iter().enumerate() {
        let owner = deal.owner;
        let order = create(
            store,
            "sales_order",
            json!({"customer": deal.get("customer").to_json(), "warehouse": sh.id, "deal": deal.id,
                   "ordered_on": day(-30 + n as i64), "owner": owner}),
        )?;
        let picks = [(n % 5, 1), ((n + 2) % 5, 1 + n % 2)];
        for (p, qty) in picks {
            create(
                store,
                "sales_line",
                json!({"order": order.id, "product": products[p].id, "quantity": qty.to_string(),
                       "discount": if n % 4 == 0 { "5" } else { "0" }}),
            )?;
        }
        act(plugins, &ctx, "sales_order", order.id, "confirm", json!({}))?;
        if n % 3 != 0 {
            act(
                plugins,
                &ctx,
                "sales_order",
                order.id,
                "deliver",
                json!({"date": day(-20 + n as i64)}),
            )?;
        }
    }
    hide_costs_from_reps(store, admin)
}

/// Reps sell at the sale price: what the company pays for a product is not theirs to see (a
/// field rule of the sales role, set as the administrator would on Roles → Field access).
fn hide_costs_from_reps(store: &Store, admin: i64) -> anyhow::Result<()> {
    let Some(sales) = store.roles().into_iter().find(|r| r.name == "sales") else {
        return Ok(());
    };
    let mut role = (*sales).clone();
    role.fields
        .entry("product".into())
        .or_default()
        .insert("purchase_price".into(), FieldRule::Hidden);
    let (admin, _) = store.access_for(admin)?;
    store
        .put_role(&admin, &role)
        .context("demo: the sales role's field rules")
}
