//! Serving declared tools over MCP.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Map, Value};

use crate::output::Output;
use crate::reject::{Gate, Reject};
use crate::schema::input_schema;
use crate::spec::{Access, ToolSpec};

/// The arguments object of a tool call.
pub type Arguments = Map<String, Value>;

/// A set of tools declared with `server!`. The generated implementation is a
/// literal `match` on tool names; there is no lookup table to poison.
pub trait Tools: Send + Sync + 'static {
    /// The server's name in logs and in the MCP handshake.
    const NAME: &'static str;
    /// The server's version in the MCP handshake.
    const VERSION: &'static str;
    /// The specs of every tool, in declaration order.
    const TOOLS: &'static [&'static ToolSpec];

    /// Runs the named tool. Unknown names are refused at [`Gate::UnknownTool`].
    fn dispatch<'a>(
        call: &'a Call,
        name: &'a str,
        args: &'a Arguments,
    ) -> impl Future<Output = Result<Output, Reject>> + Send + 'a;
}

/// The state of one tool call as it crosses the gates.
#[derive(Debug)]
pub struct Call {
    server: &'static str,
    executed: AtomicBool,
}

impl Call {
    /// A new call on the named server.
    pub fn new(server: &'static str) -> Self {
        Self {
            server,
            executed: AtomicBool::new(false),
        }
    }

    /// The server's name.
    pub fn server(&self) -> &'static str {
        self.server
    }

    /// Records that every gate passed and the body is about to run.
    pub fn enter_body(&self) {
        self.executed.store(true, Ordering::SeqCst);
    }

    /// Whether the body ran.
    pub fn executed(&self) -> bool {
        self.executed.load(Ordering::SeqCst)
    }

    /// Ends the call: a rejection is logged as exactly one WARNING line and
    /// becomes an `isError` result naming the field and the reason.
    pub fn finish(&self, result: Result<Output, Reject>) -> CallToolResult {
        match result {
            Ok(output) => {
                let mut result = CallToolResult::success(vec![ContentBlock::text(output.text)]);
                result.structured_content = output.structured;
                result
            }
            Err(reject) => {
                crate::log::warn(&reject.log_line(self.server));
                CallToolResult::error(vec![ContentBlock::text(reject.to_string())])
            }
        }
    }
}

/// The access gate. Scoped tools are refused until a credential verifier is
/// configured: a tool that needs a permission never runs without one.
pub fn check_access(spec: &ToolSpec) -> Result<(), Reject> {
    match spec.access {
        Access::Public => Ok(()),
        Access::Scope(scope) => Err(Reject::at(
            Gate::Auth,
            None,
            format!("tool needs scope `{scope}` and this server verifies no credentials"),
        )),
    }
}

/// The rejection for a tool name the server does not declare.
pub fn unknown_tool(name: &str) -> Reject {
    Reject::at(Gate::UnknownTool, Some("name".into()), "no such tool").with_text(name)
}

/// The MCP tool entry a client sees for a spec.
pub fn tool_entry(spec: &ToolSpec) -> Tool {
    let mut tool = Tool::new(spec.name, spec.description, Arc::new(input_schema(spec)));
    if let Some(schema) = (spec.output_schema)() {
        tool = tool.with_raw_output_schema(Arc::new(schema));
    }
    let annotations = if spec.confirm {
        ToolAnnotations::new().destructive(true)
    } else {
        ToolAnnotations::new().destructive(false)
    };
    tool.with_annotations(annotations)
}

/// An MCP server over a set of declared tools.
///
/// ```no_run
/// # use secure_tool::{secure_tool, server, Reject, Server};
/// /// Says hello.
/// #[secure_tool(public)]
/// fn hello(name: String) -> Result<String, Reject> {
///     Ok(format!("hello {name}"))
/// }
/// server!(Hello { hello });
///
/// # async fn run() -> std::io::Result<()> {
/// Server::new(Hello).serve_stdio().await
/// # }
/// # fn main() {}
/// ```
#[derive(Debug, Clone)]
pub struct Server<T> {
    tools: Arc<[Tool]>,
    _set: std::marker::PhantomData<fn() -> T>,
}

impl<T: Tools> Server<T> {
    /// Builds the server; tool entries and schemas are computed once here.
    pub fn new(_tools: T) -> Self {
        Self {
            tools: T::TOOLS.iter().map(|spec| tool_entry(spec)).collect(),
            _set: std::marker::PhantomData,
        }
    }

    /// Runs one call through every gate. Used by the MCP handler and by tests.
    pub async fn call(&self, name: &str, args: &Arguments) -> CallToolResult {
        let call = Call::new(T::NAME);
        let result = T::dispatch(&call, name, args).await;
        call.finish(result)
    }

    /// Serves MCP over stdin/stdout until the client disconnects.
    pub async fn serve_stdio(self) -> std::io::Result<()> {
        use rmcp::ServiceExt as _;
        let running = self
            .serve(rmcp::transport::stdio())
            .await
            .map_err(std::io::Error::other)?;
        running.waiting().await.map_err(std::io::Error::other)?;
        Ok(())
    }
}

impl<T: Tools> ServerHandler for Server<T> {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(T::NAME, T::VERSION))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request.arguments.unwrap_or_default();
        Ok(self.call(&request.name, &args).await.into())
    }
}
