// The console's routes. URLs mirror the API's scopes: /platform/... and /merchants/{id}/...
import { Navigate, Route, Routes, useLocation } from "react-router";
import { useSession } from "./session/session";
import { Layout } from "./components/Layout";
import { SignInPage } from "./pages/SignInPage";
import { MerchantsPage } from "./pages/MerchantsPage";
import { ScopeOverviewPage } from "./pages/documents/ScopeOverviewPage";
import { DocumentPage } from "./pages/documents/DocumentPage";
import { VersionsPage } from "./pages/documents/VersionsPage";
import { AuditLogPage } from "./pages/documents/AuditLogPage";
import { OrdersPage } from "./pages/orders/OrdersPage";
import { OrderTimelinePage } from "./pages/orders/OrderTimelinePage";

function RequireSignIn({ children }: { children: React.ReactNode }) {
  const { state } = useSession();
  const location = useLocation();
  if (state.status === "loading") return <p role="status" className="loading">Checking your key…</p>;
  if (state.status === "signed-out")
    return <Navigate to="/sign-in" replace state={{ from: location.pathname }} />;
  return <>{children}</>;
}

function Home() {
  const { state } = useSession();
  if (state.status !== "signed-in") return null;
  const { merchant_id } = state.me;
  return <Navigate to={merchant_id ? `/merchants/${merchant_id}` : "/merchants"} replace />;
}

/** The pages a scope has: its documents, their versions, its audit log. */
function scopeRoutes() {
  return (
    <>
      <Route index element={<ScopeOverviewPage />} />
      <Route path="documents/:kind/:name" element={<DocumentPage />} />
      <Route path="documents/:kind/:name/versions" element={<VersionsPage />} />
      <Route path="audit-log" element={<AuditLogPage />} />
    </>
  );
}

export function App() {
  return (
    <Routes>
      <Route path="/sign-in" element={<SignInPage />} />
      <Route
        element={
          <RequireSignIn>
            <Layout />
          </RequireSignIn>
        }
      >
        <Route index element={<Home />} />
        <Route path="merchants" element={<MerchantsPage />} />
        <Route path="platform">{scopeRoutes()}</Route>
        <Route path="merchants/:merchantId">
          {scopeRoutes()}
          <Route path="orders" element={<OrdersPage />} />
          <Route path="orders/:orderId" element={<OrderTimelinePage />} />
        </Route>
        <Route path="*" element={<p role="alert">No such page.</p>} />
      </Route>
    </Routes>
  );
}
