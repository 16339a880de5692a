// The console's routes. URLs mirror the API's scopes: /platform/... and /merchants/{id}/...
// A data router (createBrowserRouter), so editors can block navigation while they hold
// unsaved changes (useBlocker). Every page but sign-in is its own chunk, loaded when first
// visited: the first load fetches only the frame (scripts/check-size.mjs keeps it small).
import { lazy, Suspense, useEffect } from "react";
import { createBrowserRouter, createRoutesFromElements, Navigate, Outlet, Route, useLocation } from "react-router";
import { useSession } from "./session/session";
import { Layout } from "./components/Layout";
import { Loading } from "./components/States";
import { SignInPage } from "./pages/SignInPage";

const MerchantsPage = lazy(() => import("./pages/MerchantsPage").then((m) => ({ default: m.MerchantsPage })));
const MerchantHomePage = lazy(() => import("./pages/MerchantHomePage").then((m) => ({ default: m.MerchantHomePage })));
const ScopeOverviewPage = lazy(() =>
  import("./pages/documents/ScopeOverviewPage").then((m) => ({ default: m.ScopeOverviewPage })),
);
const DocumentPage = lazy(() => import("./pages/documents/DocumentPage").then((m) => ({ default: m.DocumentPage })));
const VersionsPage = lazy(() => import("./pages/documents/VersionsPage").then((m) => ({ default: m.VersionsPage })));
const AuditLogPage = lazy(() => import("./pages/documents/AuditLogPage").then((m) => ({ default: m.AuditLogPage })));
const OrdersPage = lazy(() => import("./pages/orders/OrdersPage").then((m) => ({ default: m.OrdersPage })));
const WebhooksPage = lazy(() => import("./pages/webhooks/WebhooksPage").then((m) => ({ default: m.WebhooksPage })));
const WebhookEndpointPage = lazy(() =>
  import("./pages/webhooks/WebhookEndpointPage").then((m) => ({ default: m.WebhookEndpointPage })),
);
const OrderTimelinePage = lazy(() =>
  import("./pages/orders/OrderTimelinePage").then((m) => ({ default: m.OrderTimelinePage })),
);

function RequireSignIn({ children }: { children: React.ReactNode }) {
  const { state } = useSession();
  const location = useLocation();
  if (state.status === "loading") return <p role="status" className="loading">Checking your key…</p>;
  if (state.status === "signed-out")
    return <Navigate to="/sign-in" replace state={{ from: location.pathname }} />;
  return <>{children}</>;
}

/** Signing out is a navigation (to /sign-out), so an editor with unsaved changes can ask first. */
function SignOut() {
  const { state, signOut } = useSession();
  useEffect(() => {
    if (state.status === "signed-in") signOut();
  }, [state.status, signOut]);
  if (state.status === "signed-out") return <Navigate to="/sign-in" replace />;
  return (
    <p role="status" className="loading">
      Signing out…
    </p>
  );
}

function Home() {
  const { state } = useSession();
  if (state.status !== "signed-in") return null;
  const { merchant_id } = state.me;
  return <Navigate to={merchant_id ? `/merchants/${merchant_id}` : "/merchants"} replace />;
}

/** A page's chunk, with a loading state while it arrives. */
function Page() {
  return (
    <Suspense fallback={<Loading what="the page" />}>
      <Outlet />
    </Suspense>
  );
}

/** The pages a scope has: its documents, their versions, its audit log. A merchant's home is
 * its landing page, and its documents overview is at .../documents; the platform's overview is
 * the platform's page itself. */
function scopeRoutes(overview: "index" | "documents") {
  return (
    <>
      {overview === "index" ? (
        <Route index element={<ScopeOverviewPage />} />
      ) : (
        <>
          <Route index element={<MerchantHomePage />} />
          <Route path="documents" element={<ScopeOverviewPage />} />
        </>
      )}
      <Route path="documents/:kind/:name" element={<DocumentPage />} />
      <Route path="documents/:kind/:name/versions" element={<VersionsPage />} />
      <Route path="audit-log" element={<AuditLogPage />} />
    </>
  );
}

export const routes = createRoutesFromElements(
  <>
    <Route path="/sign-in" element={<SignInPage />} />
    <Route path="/sign-out" element={<SignOut />} />
    <Route
      element={
        <RequireSignIn>
          <Layout />
        </RequireSignIn>
      }
    >
      <Route element={<Page />}>
        <Route index element={<Home />} />
        <Route path="merchants" element={<MerchantsPage />} />
        <Route path="platform">{scopeRoutes("index")}</Route>
        <Route path="merchants/:merchantId">
          {scopeRoutes("documents")}
          <Route path="orders" element={<OrdersPage />} />
          <Route path="orders/:orderId" element={<OrderTimelinePage />} />
          <Route path="webhooks" element={<WebhooksPage />} />
          <Route path="webhooks/:endpointId" element={<WebhookEndpointPage />} />
        </Route>
        <Route path="*" element={<p role="alert">No such page.</p>} />
      </Route>
    </Route>
  </>,
);

export const router = createBrowserRouter(routes, { basename: "/admin" });
