//! The OpenAPI 3.1 description of every route, generated from the handlers'
//! `#[utoipa::path]` annotations as the routers register them (so a route
//! cannot exist undocumented), and served at `/openapi.json`.
//!
//! Two conventions of the open platform do not fit an annotation and are
//! written here once:
//! - every `/rest/2.0` route answers HTTP 200 with one of three JSON shapes
//!   (success with `data`, business error, gateway error): [`rest_answers`];
//! - every such route takes its parameters in the query of a GET or in the
//!   form body of a POST (SPEC §1): handlers declare them as query
//!   parameters, and [`finish`] derives the POST's form body from them.

use serde_json::{Map, Value, json};
use smartship_api::auth::{AuthorizationCode, PreAuthCode, TpToken};
use smartship_api::package::{AuditQuota, PackageInfo};
use smartship_api::profile::{
    AppDomains, AppInfo, CategoryItem, CategorySubItem, ExamineId, NameCheck, ProblemDetail,
    TpDomains, ViolationDetail,
};
use smartship_api::template::{
    DraftCreated, DraftInfo, Page, TemplateCreated, TemplateDeleted, TemplateInfo,
};
use smartship_api::{ErrorCode, GatewayCode};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// The `data` of a success that has none: the answer is exactly
/// `{"errno":0,"msg":"success"}`.
pub struct NoData;

/// What a success's `data` is, for [`rest_answer`].
pub trait AnswerData {
    /// `None` when the success has no `data` member.
    fn data_schema() -> Option<RefOr<Schema>>;
    fn referenced(out: &mut Vec<(String, RefOr<Schema>)>);
}

impl AnswerData for NoData {
    fn data_schema() -> Option<RefOr<Schema>> {
        None
    }
    fn referenced(_: &mut Vec<(String, RefOr<Schema>)>) {}
}

impl<T: ToSchema> AnswerData for T {
    fn data_schema() -> Option<RefOr<Schema>> {
        Some(T::schema())
    }
    fn referenced(out: &mut Vec<(String, RefOr<Schema>)>) {
        T::schemas(out)
    }
}

/// `additionalProperties: false`.
fn closed() -> AdditionalProperties<Schema> {
    AdditionalProperties::FreeForm(false)
}

fn success(data: Option<RefOr<Schema>>) -> Schema {
    let mut b = ObjectBuilder::new()
        .property(
            "errno",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .enum_values(Some([0])),
        )
        .required("errno")
        .property(
            "msg",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["success"])),
        )
        .required("msg");
    match data {
        Some(d) => b = b.property("data", d).required("data"),
        None => {
            b = b.additional_properties(Some(closed()));
        }
    }
    b.description(Some("Success")).into()
}

/// `{"errno", "msg"}` with one of the documented codes (docs/errors.md).
pub fn business_error() -> Schema {
    ObjectBuilder::new()
        .property(
            "errno",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .enum_values(Some(ErrorCode::ALL.map(ErrorCode::errno))),
        )
        .required("errno")
        .property("msg", ObjectBuilder::new().schema_type(Type::String))
        .required("msg")
        .additional_properties(Some(closed()))
        .description(Some(
            "A business error: `errno` is one of the codes in docs/errors.md, \
             `msg` names the cause (a parameter error names the parameter).",
        ))
        .into()
}

/// `{"error_code", "error_msg"}`, raised before the business logic runs.
pub fn gateway_error() -> Schema {
    ObjectBuilder::new()
        .property(
            "error_code",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .enum_values(Some(GatewayCode::ALL.map(GatewayCode::code))),
        )
        .required("error_code")
        .property("error_msg", ObjectBuilder::new().schema_type(Type::String))
        .required("error_msg")
        .additional_properties(Some(closed()))
        .description(Some(
            "A gateway error: token missing, invalid or expired (110, 111), no \
             permission or caller address not allowed (6), rate limit (18), \
             unknown route (3).",
        ))
        .into()
}

/// The schema of a `/rest/2.0` answer whose success carries `data` of type
/// `T`: a success `{"errno":0,"msg":"success","data":…}`, a business error
/// `{"errno","msg"}` or a gateway error `{"error_code","error_msg"}`.
fn rest_answer<T: AnswerData>() -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(success(T::data_schema()))
        .item(utoipa::openapi::Ref::from_schema_name("BusinessError"))
        .item(utoipa::openapi::Ref::from_schema_name("GatewayError"))
        .into()
}

fn rest_answer_schemas<T: AnswerData>(out: &mut Vec<(String, RefOr<Schema>)>) {
    T::referenced(out);
    out.push(("BusinessError".to_owned(), business_error().into()));
    out.push(("GatewayError".to_owned(), gateway_error().into()));
}

/// One type per `data` shape, for `body = inline(...)` in the handlers'
/// annotations (which take types, not expressions).
macro_rules! rest_answers {
    ($($(#[$doc:meta])* $name:ident => $data:ty $([$($named:ty),*])?;)*) => {$(
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                rest_answer::<$data>()
            }
        }

        impl ToSchema for $name {
            fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
                // `Vec<T>` and `Page<T>` refer to `T` by name but do not
                // list it: the named ones are given with the answer.
                $($(
                    out.push((<$named>::name().into(), <$named>::schema()));
                    <$named>::schemas(out);
                )*)?
                rest_answer_schemas::<$data>(out)
            }
        }
    )*};
}

rest_answers! {
    /// A success without data, or an error.
    Done => NoData;
    Packages => Vec<PackageInfo> [PackageInfo];
    OnePackage => PackageInfo;
    Quota => AuditQuota;
    Drafts => Page<DraftInfo> [DraftInfo];
    Templates => Page<TemplateInfo> [TemplateInfo];
    NewTemplate => TemplateCreated;
    DeletedTemplate => TemplateDeleted;
    NewDraft => DraftCreated;
    TpTokenAnswer => TpToken;
    PreAuthCodeAnswer => PreAuthCode;
    AuthorizationCodeAnswer => AuthorizationCode;
    AppInfoAnswer => AppInfo;
    GrayPlanAnswer => smartship_api::release::GrayPlanInfo [smartship_api::release::RampStepInfo];
    HistoryAnswer => smartship_api::release::History [smartship_api::release::HistoryEntry];
    ServiceChangeAnswer => smartship_api::profile::ServiceChange;
    SupportVersionsAnswer => smartship_api::profile::SupportVersions [smartship_api::profile::SupportVersionItem];
    NameCheckAnswer => NameCheck;
    PrecheckAnswer => smartship_api::package::PrecheckReport [smartship_api::package::PrecheckFinding];
    ExamineIdAnswer => ExamineId;
    ExamineIdsAnswer => Vec<ExamineId> [ExamineId];
    CategoriesAnswer => Vec<CategoryItem> [CategoryItem, CategorySubItem];
    ViolationAnswer => ViolationDetail [ProblemDetail];
    AppDomainsAnswer => AppDomains;
    TpDomainsAnswer => TpDomains;
    /// A success whose `data` is a text (a URL, a comma-separated list).
    TextAnswer => String;
    ImageUrlAnswer => String;
    TextListAnswer => Vec<String>;
}

/// The error body of the operator API: `{"error": {"code", "message"}}`.
#[derive(serde::Serialize, ToSchema)]
pub struct AdminErrorBody {
    pub error: AdminErrorDetail,
}

#[derive(serde::Serialize, ToSchema)]
pub struct AdminErrorDetail {
    /// A stable code: `invalid`, `bad_request`, `unauthorized`, `not_found`,
    /// `conflict`, `wrong_state`, `not_built`, `method_not_allowed`,
    /// `unsupported_media_type`, `too_large`, `busy`.
    pub code: String,
    pub message: String,
}

/// The document as served: the routers' description, completed with the
/// conventions above, the security schemes and the document's own info.
pub fn finish(doc: utoipa::openapi::OpenApi) -> Value {
    let mut v = serde_json::to_value(&doc).expect("an OpenAPI document serializes");
    v["info"] = json!({
        "title": "smartship",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "The smartship mini-program release platform: the open platform's \
            `/rest/2.0` API (wire-compatible with the official SDKs), the operator API \
            under `/admin/v1`, the host-runtime API under `/runtime/v1`, and the service routes. \
            See docs/api.md and docs/release.md.",
        "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
    });
    let schemes = json!({
        "app_token": {
            "type": "apiKey", "in": "query", "name": "access_token",
            "description": "An app access token (`/rest/2.0/oauth/token`)."
        },
        "tp_token": {
            "type": "apiKey", "in": "query", "name": "access_token",
            "description": "A third-party platform token (`/public/2.0/smartapp/auth/tp/token`)."
        },
        "admin_token": {
            "type": "http", "scheme": "bearer",
            "description": "The operator API's admin token (`admin_token` in the configuration)."
        },
        "host_key": {
            "type": "http", "scheme": "bearer",
            "description": "A host-app key (`shk_...`) made by an operator (`POST /admin/v1/host-keys`)."
        },
    });
    v["components"]["securitySchemes"] = schemes;
    if let Some(paths) = v["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            if path.starts_with("/rest/2.0/") || path.starts_with("/public/2.0/") {
                split_get_and_post(item);
            }
        }
    }
    v
}

/// A route annotated `get, post` with query parameters becomes a GET with
/// those parameters in the query and a POST with them in a form body.
fn split_get_and_post(item: &mut Value) {
    let (Some(get), Some(post)) = (item.get("get").cloned(), item.get_mut("post")) else {
        return;
    };
    if get != *post || post.get("requestBody").is_some() {
        return;
    }
    let params = post
        .as_object_mut()
        .and_then(|o| o.remove("parameters"))
        .and_then(|p| match p {
            Value::Array(a) => Some(a),
            _ => None,
        })
        .unwrap_or_default();
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut query = Vec::new();
    for p in params {
        if p["in"] != "query" {
            query.push(p);
            continue;
        }
        let name = p["name"].as_str().unwrap_or_default().to_owned();
        let mut schema = p["schema"].clone();
        if let (Some(d), Some(s)) = (p.get("description"), schema.as_object_mut()) {
            s.insert("description".to_owned(), d.clone());
        }
        if p["required"] == true {
            required.push(Value::String(name.clone()));
        }
        properties.insert(name, schema);
    }
    if let Some(id) = post["operationId"].as_str() {
        post["operationId"] = Value::String(format!("{id}_post"));
    }
    if !query.is_empty() {
        post["parameters"] = Value::Array(query);
    }
    if !properties.is_empty() {
        post["requestBody"] = json!({
            "required": !required.is_empty(),
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": properties,
                        "required": required,
                    }
                }
            }
        });
    }
}

/// The answer of `/rest/2.0/oauth/token`: the app's tokens, flat, or an
/// OAuth error `{"error", "error_description"}`.
pub struct OAuthAnswer;

/// The `error` values of `/rest/2.0/oauth/token`.
pub const OAUTH_ERRORS: [&str; 7] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unsupported_grant_type",
    "access_denied",
    "slow_down",
    "server_error",
];

impl PartialSchema for OAuthAnswer {
    fn schema() -> RefOr<Schema> {
        let error: Schema = ObjectBuilder::new()
            .property(
                "error",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(OAUTH_ERRORS)),
            )
            .required("error")
            .property(
                "error_description",
                ObjectBuilder::new().schema_type(Type::String),
            )
            .required("error_description")
            .additional_properties(Some(closed()))
            .description(Some("An OAuth error."))
            .into();
        OneOfBuilder::new()
            .item(utoipa::openapi::Ref::from_schema_name("AppTokens"))
            .item(error)
            .into()
    }
}

impl ToSchema for OAuthAnswer {
    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        out.push((
            "AppTokens".to_owned(),
            smartship_api::auth::AppTokens::schema(),
        ));
    }
}

/// The errors every operator API route may answer.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum AdminErrors {
    /// A path id that is not a number, or a request the server could not
    /// read (`bad_request`).
    #[response(status = 400)]
    BadRequest(AdminErrorBody),
    /// Missing or wrong bearer admin token (`unauthorized`).
    #[response(status = 401)]
    Unauthorized(AdminErrorBody),
    /// No such app, platform, package or event (`not_found`).
    #[response(status = 404)]
    NotFound(AdminErrorBody),
    /// The path exists with other methods (`method_not_allowed`).
    #[response(status = 405)]
    MethodNotAllowed(AdminErrorBody),
    /// A parameter or body field is invalid, or a filter unknown; `message`
    /// names it (`invalid`).
    #[response(status = 422)]
    Invalid(AdminErrorBody),
    /// The store stayed locked by concurrent writers past its retries;
    /// nothing changed, the call may be repeated (`busy`).
    #[response(status = 503)]
    Busy(AdminErrorBody),
}
