// The frame of every signed-in page: a header (product, who is signed in, Sign out), a
// navigation sidebar (collapsible on phones) and the page itself. A platform admin sees the
// merchants and the platform scope; a merchant admin only their own merchant.
import { useEffect, useId, useRef, useState } from "react";
import { NavLink, Outlet, useLocation, useNavigate, useParams } from "react-router";
import { api, unwrap } from "../api/client";
import { useMe } from "../session/session";
import { useLoad } from "./useLoad";

/** Fired when the list of merchants changes (e.g. one was created), so the navigation reloads. */
export const MERCHANTS_CHANGED = "orderflow:merchants-changed";

const SCOPE_LABEL: Record<string, string> = {
  platform_admin: "Platform admin",
  merchant_admin: "Merchant admin",
  storefront: "Storefront",
};

function MerchantLinks({ merchantId }: { merchantId: string }) {
  const base = `/merchants/${encodeURIComponent(merchantId)}`;
  return (
    <ul className="subnav">
      <li>
        <NavLink to={`${base}/documents`}>Documents</NavLink>
      </li>
      <li>
        <NavLink to={`${base}/orders`}>Orders</NavLink>
      </li>
      <li>
        <NavLink to={`${base}/webhooks`}>Webhooks</NavLink>
      </li>
      <li>
        <NavLink to={`${base}/audit-log`}>Audit log</NavLink>
      </li>
    </ul>
  );
}

function PlatformNav({ currentMerchant }: { currentMerchant?: string }) {
  const merchants = useLoad(() => unwrap(api.GET("/v1/merchants", { params: { query: { limit: 200 } } })), []);
  const { reload } = merchants;
  useEffect(() => {
    window.addEventListener(MERCHANTS_CHANGED, reload);
    return () => window.removeEventListener(MERCHANTS_CHANGED, reload);
  }, [reload]);
  const location = useLocation();
  const inPlatform = location.pathname.startsWith("/platform");
  const listed = merchants.data?.data ?? [];
  // A merchant opened by URL that is not on the first page still gets its links.
  const extra = currentMerchant && !listed.some((m) => m.id === currentMerchant) ? currentMerchant : undefined;
  return (
    <>
      <h2 id="nav-platform">Platform</h2>
      <ul aria-labelledby="nav-platform">
        <li>
          <NavLink to="/merchants" end>
            Merchants
          </NavLink>
        </li>
        <li>
          <NavLink to="/platform" end>
            Platform scope
          </NavLink>
          {inPlatform && (
            <ul className="subnav">
              <li>
                <NavLink to="/platform" end>
                  Documents
                </NavLink>
              </li>
              <li>
                <NavLink to="/platform/audit-log">Audit log</NavLink>
              </li>
            </ul>
          )}
        </li>
      </ul>
      <h2 id="nav-merchants">Merchants</h2>
      {merchants.loading && !merchants.data && <p className="more">Loading…</p>}
      {merchants.error != null && <p className="more fail">Could not load merchants.</p>}
      <ul aria-labelledby="nav-merchants">
        {listed.map((m) => (
          <li key={m.id}>
            <NavLink to={`/merchants/${encodeURIComponent(m.id)}`} title={m.name}>
              {m.name} <span className="muted">({m.id})</span>
            </NavLink>
            {m.id === currentMerchant && <MerchantLinks merchantId={m.id} />}
          </li>
        ))}
        {extra && (
          <li>
            <NavLink to={`/merchants/${encodeURIComponent(extra)}`}>{extra}</NavLink>
            <MerchantLinks merchantId={extra} />
          </li>
        )}
      </ul>
      {merchants.data?.next_cursor && (
        <p className="more">
          <NavLink to="/merchants">All merchants…</NavLink>
        </p>
      )}
    </>
  );
}

export function Layout() {
  const me = useMe();
  const navigate = useNavigate();
  const { merchantId } = useParams();
  const location = useLocation();
  const [navOpen, setNavOpen] = useState(false);
  const navId = useId();
  const mainRef = useRef<HTMLElement>(null);

  // Close the phone menu when the user navigates.
  useEffect(() => setNavOpen(false), [location.pathname]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <NavLink to="/" className="brand">
          <span className="brand-mark" aria-hidden="true">
            of
          </span>
          <span>
            orderflow <small>merchant admin</small>
          </span>
        </NavLink>
        <button
          type="button"
          className="btn btn-small nav-toggle"
          aria-expanded={navOpen}
          aria-controls={navId}
          onClick={() => setNavOpen((open) => !open)}
        >
          Menu
        </button>
        <span className="header-spacer" />
        <div className="whoami">
          <span className="key-id">
            Key <code>{me.key_id}</code>
          </span>
          <span className="badge info" title="The signed-in key's scope">
            {SCOPE_LABEL[me.scope] ?? me.scope}
            {me.merchant_id ? ` · ${me.merchant_id}` : ""}
          </span>
          <button type="button" className="btn btn-small" onClick={() => navigate("/sign-out")}>
            Sign out
          </button>
        </div>
      </header>
      <div className="app-body">
        <nav id={navId} className={`sidebar${navOpen ? " open" : ""}`} aria-label="Main">
          {me.merchant_id ? (
            <>
              <h2 id="nav-merchant">Your merchant</h2>
              <ul aria-labelledby="nav-merchant">
                <li>
                  <NavLink to={`/merchants/${encodeURIComponent(me.merchant_id)}`} end>
                    {me.merchant_id}
                  </NavLink>
                  <MerchantLinks merchantId={me.merchant_id} />
                </li>
              </ul>
            </>
          ) : (
            <PlatformNav currentMerchant={merchantId} />
          )}
        </nav>
        <main id="main" ref={mainRef} tabIndex={-1}>
          <Outlet />
        </main>
      </div>
    </>
  );
}

/** Breadcrumbs above a page's title. */
export function Breadcrumbs({ items }: { items: { label: string; to?: string }[] }) {
  return (
    <nav className="breadcrumbs" aria-label="Breadcrumb">
      <ol>
        {items.map((item, i) => (
          <li key={i}>
            {item.to ? <NavLink to={item.to} end>{item.label}</NavLink> : <span aria-current="page">{item.label}</span>}
          </li>
        ))}
      </ol>
    </nav>
  );
}
