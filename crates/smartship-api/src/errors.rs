//! The stable error-code table. `docs/errors.md` documents every entry; a test
//! checks that the document and this table agree.

use serde::Serialize;

/// Business error numbers, carried in `errno` of the business shape
/// `{"errno", "msg", "data"}`. The numbers are part of the contract: never
/// renumber an entry, only add new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ErrorCode {
    /// A parameter is missing, malformed or out of range. The message names it.
    ParamError,
    /// The app has no authorization relation with the third-party platform.
    NoAuthorization,
    /// The package does not exist or belongs to another app.
    PackageNotFound,
    /// The package is not in a state that allows the action.
    WrongPackageState,
    /// The app's basic information (name, icon, description) is not approved.
    BasicInfoNotApproved,
    /// The app's authenticity (主体真实性认证) is not verified.
    AuthenticityNotVerified,
    /// Another package of the app is already under audit.
    AuditInProgress,
    /// The third-party platform already has the maximum number of templates.
    TemplateLimitReached,
    /// The template does not exist or belongs to another platform.
    TemplateNotFound,
    /// The package or draft exceeds the configured size limit.
    PackageTooLarge,
    /// There is no earlier online version to roll back to.
    NothingToRollBack,
    /// The audit quota of the current period is used up.
    AuditQuotaExhausted,
    /// The draft does not exist or belongs to another platform.
    DraftNotFound,
    /// The package is still being built, or its build failed.
    PackageNotBuilt,
    /// A rollback of the online package is in progress.
    RollbackInProgress,
    /// The uploaded draft archive is not a valid mini-program source tree.
    InvalidDraft,
    /// Too many requests (also raised as gateway error 18).
    RateLimited,
    /// The ticket is unknown, expired, or not the platform's.
    InvalidTicket,
    /// The server is receiving as many request bodies as it takes at once.
    ServerBusy,
    /// The server's disk is full: a write was refused, nothing was changed.
    StorageFull,
    /// An unexpected internal failure; details are only in the server log.
    Internal,
    /// A phased (gray) release of the app is running or paused: it holds
    /// the audit slot and the online version until it finishes or is
    /// reverted. The message names its package.
    GrayInProgress,
    /// A gray percentage only increases: the one asked is not above the
    /// plan's.
    GrayPercentageNotIncreasing,
    /// There is no phased release in the state the action needs (none
    /// live; pause of a paused plan; resume of a running one).
    GrayNotInState,
    /// The rollback target (`target_package_id` or `version`) is not an
    /// earlier online version of the app (in history or rolled back).
    NotARollbackTarget,
    /// The release of the package in the audit slot is scheduled: a new
    /// submission or a phased release of it waits until it is released
    /// or its schedule cancelled. The message names the package.
    ReleaseScheduled,
    /// The app's service state does not allow the call: `app/pause` of an
    /// app that is not in service, `app/resume` of one that is not paused
    /// (a ban or a forced offline is lifted by an operator only).
    AppStatusNotAllowed,
    /// A change of the same field (name, icon, description, categories, restoration) is under review: the message names its `examine_id`.
    ExaminationPending,
    /// The field's changes this calendar year reached its quota (`modify_count` in `app/info`).
    ModifyQuotaExhausted,
    /// The name contains a forbidden word or another app has it (approved or under review).
    NameUnavailable,
    /// The name contains a brand word: it needs `qual_materials` (uploaded `type` 3 images).
    NameNeedsQualification,
    /// The image is not a PNG or JPEG, is too large in bytes or pixels, is not square (icons), or its URL is not one of this server's uploads.
    ImageInvalid,
    /// A category is not a second-level category of `app/category/list`, is repeated, needs qualification images that are missing, or there are none or too many.
    CategoryInvalid,
    /// A domain is not `https://` (`wss://` for sockets), is an IP literal, has a wildcard, a path or credentials, or is no host name.
    DomainInvalid,
    /// A kind of domain would have more than 20 entries.
    DomainLimitReached,
    /// A blocking pre-review check failed on the package: the message
    /// names the check, the file and the line (`package/precheck` lists
    /// every finding).
    PrecheckFailed,
    /// A version names several packages where one is needed (two
    /// releases of `1.0.0`): the message lists their package ids.
    VersionAmbiguous,
    /// The platform holds as many drafts (not made into templates) as it
    /// may, or they would pass its storage budget.
    DraftLimitReached,
    /// Templates were made from the draft: it cannot be deleted.
    DraftInUse,
}

impl ErrorCode {
    /// Every code, in table order (used by the docs test).
    pub const ALL: [ErrorCode; 39] = [
        ErrorCode::ParamError,
        ErrorCode::NoAuthorization,
        ErrorCode::PackageNotFound,
        ErrorCode::WrongPackageState,
        ErrorCode::BasicInfoNotApproved,
        ErrorCode::AuthenticityNotVerified,
        ErrorCode::AuditInProgress,
        ErrorCode::TemplateLimitReached,
        ErrorCode::TemplateNotFound,
        ErrorCode::PackageTooLarge,
        ErrorCode::NothingToRollBack,
        ErrorCode::AuditQuotaExhausted,
        ErrorCode::DraftNotFound,
        ErrorCode::PackageNotBuilt,
        ErrorCode::RollbackInProgress,
        ErrorCode::InvalidDraft,
        ErrorCode::RateLimited,
        ErrorCode::InvalidTicket,
        ErrorCode::ServerBusy,
        ErrorCode::StorageFull,
        ErrorCode::Internal,
        ErrorCode::GrayInProgress,
        ErrorCode::GrayPercentageNotIncreasing,
        ErrorCode::GrayNotInState,
        ErrorCode::NotARollbackTarget,
        ErrorCode::ReleaseScheduled,
        ErrorCode::AppStatusNotAllowed,
        ErrorCode::ExaminationPending,
        ErrorCode::ModifyQuotaExhausted,
        ErrorCode::NameUnavailable,
        ErrorCode::NameNeedsQualification,
        ErrorCode::ImageInvalid,
        ErrorCode::CategoryInvalid,
        ErrorCode::DomainInvalid,
        ErrorCode::DomainLimitReached,
        ErrorCode::PrecheckFailed,
        ErrorCode::VersionAmbiguous,
        ErrorCode::DraftLimitReached,
        ErrorCode::DraftInUse,
    ];

    /// The `errno` sent on the wire.
    pub const fn errno(self) -> i64 {
        match self {
            ErrorCode::ParamError => 40001,
            ErrorCode::NoAuthorization => 50032,
            ErrorCode::PackageNotFound => 47001,
            ErrorCode::WrongPackageState => 47002,
            ErrorCode::BasicInfoNotApproved => 47003,
            ErrorCode::AuthenticityNotVerified => 47004,
            ErrorCode::AuditInProgress => 47005,
            ErrorCode::TemplateLimitReached => 47006,
            ErrorCode::TemplateNotFound => 47007,
            ErrorCode::PackageTooLarge => 47008,
            ErrorCode::NothingToRollBack => 47009,
            ErrorCode::AuditQuotaExhausted => 47010,
            ErrorCode::DraftNotFound => 47011,
            ErrorCode::PackageNotBuilt => 47012,
            ErrorCode::RollbackInProgress => 47013,
            ErrorCode::InvalidDraft => 47014,
            ErrorCode::RateLimited => 47018,
            ErrorCode::InvalidTicket => 47015,
            ErrorCode::ServerBusy => 47019,
            ErrorCode::StorageFull => 50002,
            ErrorCode::Internal => 50000,
            ErrorCode::GrayInProgress => 47020,
            ErrorCode::GrayPercentageNotIncreasing => 47021,
            ErrorCode::GrayNotInState => 47022,
            ErrorCode::NotARollbackTarget => 47023,
            ErrorCode::ReleaseScheduled => 47024,
            ErrorCode::AppStatusNotAllowed => 47025,
            ErrorCode::ExaminationPending => 47026,
            ErrorCode::ModifyQuotaExhausted => 47027,
            ErrorCode::NameUnavailable => 47028,
            ErrorCode::NameNeedsQualification => 47029,
            ErrorCode::ImageInvalid => 47030,
            ErrorCode::CategoryInvalid => 47031,
            ErrorCode::DomainInvalid => 47032,
            ErrorCode::DomainLimitReached => 47033,
            ErrorCode::PrecheckFailed => 47034,
            ErrorCode::VersionAmbiguous => 47035,
            ErrorCode::DraftLimitReached => 47036,
            ErrorCode::DraftInUse => 47037,
        }
    }

    /// The default (Chinese) message prefix. Callers append the specifics,
    /// e.g. `参数错误: package_id 必须是整数`.
    pub const fn default_msg(self) -> &'static str {
        match self {
            ErrorCode::ParamError => "参数错误",
            ErrorCode::NoAuthorization => "无授权关系",
            ErrorCode::PackageNotFound => "代码包不存在",
            ErrorCode::WrongPackageState => "代码包状态不允许该操作",
            ErrorCode::BasicInfoNotApproved => "小程序基本信息未审核通过",
            ErrorCode::AuthenticityNotVerified => "主体真实性认证未通过",
            ErrorCode::AuditInProgress => "已有代码包在审核中",
            ErrorCode::TemplateLimitReached => "模板数量已达上限",
            ErrorCode::TemplateNotFound => "模板不存在",
            ErrorCode::PackageTooLarge => "代码包超过大小限制",
            ErrorCode::NothingToRollBack => "没有可回滚的版本",
            ErrorCode::AuditQuotaExhausted => "本周期送审次数已用完",
            ErrorCode::DraftNotFound => "草稿不存在",
            ErrorCode::PackageNotBuilt => "代码包尚未上传成功",
            ErrorCode::RollbackInProgress => "线上版本正在回滚中",
            ErrorCode::InvalidDraft => "草稿包不是有效的小程序源码",
            ErrorCode::RateLimited => "请求过于频繁",
            ErrorCode::InvalidTicket => "ticket 无效或已过期",
            ErrorCode::ServerBusy => "服务繁忙，请稍后重试",
            ErrorCode::StorageFull => "存储空间不足，请稍后重试",
            ErrorCode::Internal => "系统错误",
            ErrorCode::GrayInProgress => "灰度发布进行中",
            ErrorCode::GrayPercentageNotIncreasing => "灰度比例只能增加",
            ErrorCode::GrayNotInState => "灰度发布状态不允许该操作",
            ErrorCode::NotARollbackTarget => "回滚目标不是可回滚的历史版本",
            ErrorCode::ReleaseScheduled => "代码包已定时发布",
            ErrorCode::AppStatusNotAllowed => "小程序当前状态不允许该操作",
            ErrorCode::ExaminationPending => "该项修改正在审核中",
            ErrorCode::ModifyQuotaExhausted => "本年度修改次数已用完",
            ErrorCode::NameUnavailable => "名称不可用",
            ErrorCode::NameNeedsQualification => "名称含品牌词，须提供资质材料",
            ErrorCode::ImageInvalid => "图片不符合要求",
            ErrorCode::CategoryInvalid => "类目不存在或不符合要求",
            ErrorCode::DomainInvalid => "域名不符合要求",
            ErrorCode::DomainLimitReached => "域名数量超过上限",
            ErrorCode::PrecheckFailed => "代码包预审检查未通过",
            ErrorCode::VersionAmbiguous => "版本号对应多个代码包",
            ErrorCode::DraftLimitReached => "草稿数量或存储已达上限",
            ErrorCode::DraftInUse => "草稿已用于模板",
        }
    }

    /// Look a code up by its wire number.
    pub fn from_errno(errno: i64) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.errno() == errno)
    }
}

/// Gateway error numbers, carried in `error_code` of the gateway shape
/// `{"error_code", "error_msg"}`; raised before any business logic runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatewayCode {
    /// The route does not exist.
    UnknownMethod,
    /// The token may not call this route (wrong kind of token, IP not allowed).
    NoPermission,
    /// Request rate limit reached.
    RateLimited,
    /// Token missing, unknown or revoked.
    TokenInvalid,
    /// Token known but past its expiry.
    TokenExpired,
}

impl GatewayCode {
    /// Every code, in table order (used by the docs test).
    pub const ALL: [GatewayCode; 5] = [
        GatewayCode::UnknownMethod,
        GatewayCode::NoPermission,
        GatewayCode::RateLimited,
        GatewayCode::TokenInvalid,
        GatewayCode::TokenExpired,
    ];

    /// The `error_code` sent on the wire (the public platform's numbers).
    pub const fn code(self) -> i64 {
        match self {
            GatewayCode::UnknownMethod => 3,
            GatewayCode::NoPermission => 6,
            GatewayCode::RateLimited => 18,
            GatewayCode::TokenInvalid => 110,
            GatewayCode::TokenExpired => 111,
        }
    }

    /// Look a code up by its wire number.
    pub fn from_code(code: i64) -> Option<GatewayCode> {
        GatewayCode::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The `error_msg` sent on the wire (the public platform's texts).
    pub const fn message(self) -> &'static str {
        match self {
            GatewayCode::UnknownMethod => "Unsupported openapi method",
            GatewayCode::NoPermission => "No permission to access data",
            GatewayCode::RateLimited => "Open api qps request limit reached",
            GatewayCode::TokenInvalid => "Access token invalid or no longer valid",
            GatewayCode::TokenExpired => "Access token expired",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn errnos_are_unique() {
        let set: HashSet<i64> = ErrorCode::ALL.iter().map(|c| c.errno()).collect();
        assert_eq!(set.len(), ErrorCode::ALL.len());
        let set: HashSet<i64> = GatewayCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(set.len(), GatewayCode::ALL.len());
    }

    #[test]
    fn from_errno_round_trips() {
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_errno(c.errno()), Some(c));
        }
        assert_eq!(ErrorCode::from_errno(1), None);
    }
}
