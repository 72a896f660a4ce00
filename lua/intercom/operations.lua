-- Every operation of the Intercom REST API, versions 2.12 to 2.16, as data (DESIGN.md: "Operations are data").
--
-- TO READ THIS TABLE, use the accessor, not the raw entries (the CLI, docs and specs all do):
--
--   local list = require("intercom.operations_list")
--   for _, e in ipairs(list.entries()) do ... end      -- all 231, sorted by e.key ("contacts:find")
--   list.get("contacts:find")                          -- one entry, or nil
--   list.query_names(e, "2.16")                        -- the query parameters e declares in that version
--   list.available(e, "2.13")                          -- whether e exists in that version
--
-- An entry (lua/intercom/operations_list.lua documents every field) is: resource ("news.items"), name
-- ("list"), key, method ("GET"), path ("/news/news_items/{id}"), path_params ({"id"}), body (true: takes a
-- JSON body), params (true: takes a query table), query ({ {name=, since=} } the declared query
-- parameters), page (pagination style or nil), items, iterator ("each", "search_each" or nil), since
-- ("2.12"), id (operationId), former_id, search, idempotent, download, text, redirect, single_when, and
-- signature ("client.news.items:find(id, [opts])").
--
-- The raw format, one line per operation:
--   name = { METHOD, PATH, [body = true], [params = true], [query = {...}], [page = style], [items = key],
--            [single_when = name], [idempotent = true], [search = true], [download = true], [text = true],
--            [redirect = true], since = "2.1x", id = operationId, [former_id = operationId] }
-- * Path parameters come first in the Lua call, in the order they appear in PATH. The 2.12 operations keep
--   2.12's parameter names (2.14 renamed 57 of them, e.g. {id} -> {admin_id}: the URLs are the same).
-- * `body = true`: the next argument is a table sent as the JSON body.
--   `params = true`: the next argument is a table sent as the query string. Never both: an operation with
--   a body takes its query parameters in opts.query (API.md: `conversations:update(id, [body], [opts])`).
-- * `query`: the query parameters the spec declares, in its order; "name@2.16" is declared from 2.16 on.
--   A form-exploded object parameter is listed by its properties (GET /events `filter`: user_id, ...).
--   The params table is checked against them (plus the paging parameters of the style), for the version
--   of the call: an unknown name raises with a suggestion. opts.query is never checked (the way to send
--   what the spec does not declare).
-- * `page`: the result is a Page (lua/intercom/pager.lua). Styles: "cursor" (pages.next.starting_after,
--   sent back as a query parameter), "search" (the same cursor, sent back in the body's pagination),
--   "page" (page / total_pages, in `pages` or at the top level), "scroll" (scroll_param), "next_cursor"
--   (an opaque `cursor` parameter, with next_cursor / has_more in the answer), "body_page" (page and
--   per_page sent in the JSON body). `items` names the array of the page when it is not `data` (a dotted
--   path for a nested one: "data.articles").
-- * `single_when = "external_id"`: the answer is one object, not a list, when the query has that parameter.
-- * `search = true`: `body.query`, when present, is checked with intercom.query.validate (for the call's
--   version) before anything is sent.
-- * `idempotent = true`: a POST that only reads (search, list), so it may be retried like a GET.
-- * `download = true`: the body is bytes, streamed (intercom.download). `text = true`: a text/plain answer,
--   returned as a string. `redirect = true`: the documented answer is a 302, returned as
--   { location = URL } and never followed (the URL is signed: it must not get the token).
-- * `since`: the first version among 2.12-2.16 with this method and path (../shared/contract/operations-V.tsv).
--   Calling an operation with an older version raises before anything is sent.
-- * `id`: the operationId in the spec of the newest version; `former_id` the one older versions used.
--   The four operations the specs give none (reporting data export) have one made up in the same style.
--   spec/client/coverage_spec.lua checks every operationId of every version against this table, and
--   docs/operations.md is generated from it (`make docs`).
--
-- Adding an endpoint is adding one line here; no resource file contains request code.

return {
  ["admins"] = {
    identify                      = { "GET",    "/me", since = "2.12", id = "identifyAdmin" },
    away                          = { "PUT",    "/admins/{id}/away", body = true, since = "2.12", id = "setAwayAdmin" },
    list_all_activity_logs        = { "GET",    "/admins/activity_logs", params = true, query = { "created_at_after", "created_at_before" }, page = "cursor", items = "activity_logs", since = "2.12", id = "listActivityLogs" },
    list                          = { "GET",    "/admins", params = true, query = { "display_avatar" }, since = "2.12", id = "listAdmins" },
    find                          = { "GET",    "/admins/{id}", since = "2.12", id = "retrieveAdmin" },
    search_activity_logs          = { "POST",   "/admins/activity_logs/search", body = true, page = "body_page", items = "activity_logs", idempotent = true, since = "2.16", id = "searchActivityLogs" },
    list_activity_log_event_types = { "GET",    "/admins/activity_log_event_types", since = "2.16", id = "listActivityLogEventTypes" },
  },
  ["ai_content"] = {
    list_content_import_sources  = { "GET",    "/ai/content_import_sources", params = true, page = "page", since = "2.12", id = "listContentImportSources" },
    create_content_import_source = { "POST",   "/ai/content_import_sources", body = true, since = "2.12", id = "createContentImportSource" },
    delete_content_import_source = { "DELETE", "/ai/content_import_sources/{id}", since = "2.12", id = "deleteContentImportSource" },
    get_content_import_source    = { "GET",    "/ai/content_import_sources/{id}", since = "2.12", id = "getContentImportSource" },
    update_content_import_source = { "PUT",    "/ai/content_import_sources/{id}", body = true, since = "2.12", id = "updateContentImportSource" },
    list_external_pages          = { "GET",    "/ai/external_pages", params = true, page = "page", since = "2.12", id = "listExternalPages" },
    create_external_page         = { "POST",   "/ai/external_pages", body = true, since = "2.12", id = "createExternalPage" },
    delete_external_page         = { "DELETE", "/ai/external_pages/{id}", since = "2.12", id = "deleteExternalPage" },
    get_external_page            = { "GET",    "/ai/external_pages/{id}", since = "2.12", id = "getExternalPage" },
    update_external_page         = { "PUT",    "/ai/external_pages/{id}", body = true, since = "2.12", id = "updateExternalPage" },
  },
  ["articles"] = {
    list          = { "GET",    "/articles", params = true, page = "page", since = "2.12", id = "listArticles" },
    create        = { "POST",   "/articles", body = true, since = "2.12", id = "createArticle" },
    find          = { "GET",    "/articles/{id}", since = "2.12", id = "retrieveArticle" },
    update        = { "PUT",    "/articles/{id}", body = true, since = "2.12", id = "updateArticle" },
    delete        = { "DELETE", "/articles/{id}", since = "2.12", id = "deleteArticle" },
    search        = { "GET",    "/articles/search", params = true, query = { "phrase", "state", "help_center_id", "highlight" }, page = "page", items = "data.articles", since = "2.12", id = "searchArticles" },
    find_draft    = { "GET",    "/articles/{id}/draft", since = "2.16", id = "retrieveArticleDraft" },
    stage_draft   = { "PUT",    "/articles/{id}/draft", body = true, since = "2.16", id = "stageArticleDraft" },
    publish_draft = { "POST",   "/articles/{id}/draft/publish", body = true, since = "2.16", id = "publishArticleDraft" },
    list_versions = { "GET",    "/articles/{article_id}/versions", params = true, query = { "page", "per_page", "locale" }, page = "page", since = "2.16", id = "listArticleVersions" },
    find_version  = { "GET",    "/articles/{article_id}/versions/{id}", params = true, query = { "locale" }, since = "2.16", id = "retrieveArticleVersion" },
  },
  ["collections"] = {
    list   = { "GET",    "/help_center/collections", params = true, page = "page", since = "2.12", id = "listAllCollections" },
    create = { "POST",   "/help_center/collections", body = true, since = "2.12", id = "createCollection" },
    find   = { "GET",    "/help_center/collections/{id}", since = "2.12", id = "retrieveCollection" },
    update = { "PUT",    "/help_center/collections/{id}", body = true, since = "2.12", id = "updateCollection" },
    delete = { "DELETE", "/help_center/collections/{id}", since = "2.12", id = "deleteCollection" },
  },
  ["help_centers"] = {
    find            = { "GET",    "/help_center/help_centers/{id}", since = "2.12", id = "retrieveHelpCenter" },
    list            = { "GET",    "/help_center/help_centers", since = "2.12", id = "listHelpCenters" },
    list_redirects  = { "GET",    "/help_center/help_centers/{help_center_id}/redirects", params = true, query = { "page", "per_page" }, page = "page", since = "2.16", id = "listHelpCenterRedirects" },
    create_redirect = { "POST",   "/help_center/help_centers/{help_center_id}/redirects", body = true, since = "2.16", id = "createHelpCenterRedirect" },
    find_redirect   = { "GET",    "/help_center/help_centers/{help_center_id}/redirects/{id}", since = "2.16", id = "retrieveHelpCenterRedirect" },
    delete_redirect = { "DELETE", "/help_center/help_centers/{help_center_id}/redirects/{id}", since = "2.16", id = "deleteHelpCenterRedirect" },
  },
  ["companies"] = {
    create_or_update       = { "POST",   "/companies", body = true, since = "2.12", id = "createOrUpdateCompany" },
    retrieve               = { "GET",    "/companies", params = true, query = { "name", "company_id", "tag_id", "segment_id", "page", "per_page" }, page = "page", since = "2.12", id = "retrieveCompany" },
    find                   = { "GET",    "/companies/{id}", since = "2.12", id = "RetrieveACompanyById" },
    update                 = { "PUT",    "/companies/{id}", body = true, since = "2.12", id = "UpdateCompany" },
    delete                 = { "DELETE", "/companies/{id}", since = "2.12", id = "deleteCompany" },
    list_attached_contacts = { "GET",    "/companies/{id}/contacts", params = true, page = "page", since = "2.12", id = "ListAttachedContacts" },
    list_attached_segments = { "GET",    "/companies/{id}/segments", since = "2.12", id = "ListAttachedSegmentsForCompanies" },
    list                   = { "POST",   "/companies/list", params = true, query = { "page", "per_page", "order" }, page = "page", idempotent = true, since = "2.12", id = "listAllCompanies" },
    scroll                 = { "GET",    "/companies/scroll", params = true, query = { "scroll_param" }, page = "scroll", since = "2.12", id = "scrollOverAllCompanies" },
    attach_contact         = { "POST",   "/contacts/{id}/companies", body = true, since = "2.12", id = "attachContactToACompany" },
    detach_contact         = { "DELETE", "/contacts/{contact_id}/companies/{id}", since = "2.12", id = "detachContactFromACompany" },
  },
  ["contacts"] = {
    list_attached_companies     = { "GET",    "/contacts/{id}/companies", params = true, page = "page", items = "companies", since = "2.12", id = "listCompaniesForAContact" },
    list_attached_segments      = { "GET",    "/contacts/{contact_id}/segments", since = "2.12", id = "listSegmentsForAContact" },
    list_attached_subscriptions = { "GET",    "/contacts/{contact_id}/subscriptions", since = "2.12", id = "listSubscriptionsForAContact" },
    attach_subscription         = { "POST",   "/contacts/{contact_id}/subscriptions", body = true, since = "2.12", id = "attachSubscriptionTypeToContact" },
    detach_subscription         = { "DELETE", "/contacts/{contact_id}/subscriptions/{id}", since = "2.12", id = "detachSubscriptionTypeToContact" },
    list_attached_tags          = { "GET",    "/contacts/{contact_id}/tags", since = "2.12", id = "listTagsForAContact" },
    update                      = { "PUT",    "/contacts/{id}", body = true, query = { "include_merge_history@2.16" }, since = "2.12", id = "UpdateContact" },
    find                        = { "GET",    "/contacts/{id}", query = { "include_merge_history@2.16" }, since = "2.12", id = "ShowContact" },
    delete                      = { "DELETE", "/contacts/{id}", since = "2.12", id = "DeleteContact" },
    merge_lead_in_user          = { "POST",   "/contacts/merge", body = true, query = { "include_merge_history@2.16" }, since = "2.12", id = "MergeContact" },
    search                      = { "POST",   "/contacts/search", body = true, query = { "include_merge_history@2.16" }, page = "search", idempotent = true, search = true, since = "2.12", id = "SearchContacts" },
    list                        = { "GET",    "/contacts", params = true, query = { "include_merge_history@2.16" }, page = "cursor", since = "2.12", id = "ListContacts" },
    create                      = { "POST",   "/contacts", body = true, since = "2.12", id = "CreateContact" },
    archive                     = { "POST",   "/contacts/{id}/archive", since = "2.12", id = "ArchiveContact" },
    unarchive                   = { "POST",   "/contacts/{id}/unarchive", since = "2.12", id = "UnarchiveContact" },
    show_by_external_id         = { "GET",    "/contacts/find_by_external_id/{external_id}", params = true, query = { "include_merge_history@2.16" }, since = "2.13", id = "ShowContactByExternalId" },
    block                       = { "POST",   "/contacts/{contact_id}/block", since = "2.13", id = "BlockContact" },
    list_merge_history          = { "GET",    "/contacts/{id}/merge_history", params = true, query = { "cursor", "per_page", "order" }, page = "next_cursor", since = "2.16", id = "ListContactMergeHistory" },
  },
  ["notes"] = {
    list               = { "GET",    "/contacts/{id}/notes", params = true, page = "page", since = "2.12", id = "listNotes" },
    create             = { "POST",   "/contacts/{id}/notes", body = true, since = "2.12", id = "createNote" },
    find               = { "GET",    "/notes/{id}", since = "2.12", id = "retrieveNote" },
    list_for_company   = { "GET",    "/companies/{company_id}/notes", params = true, page = "page", since = "2.15", id = "listCompanyNotes" },
    create_for_company = { "POST",   "/companies/{company_id}/notes", body = true, since = "2.16", id = "createCompanyNote" },
  },
  ["tags"] = {
    tag_contact            = { "POST",   "/contacts/{contact_id}/tags", body = true, since = "2.12", id = "attachTagToContact" },
    untag_contact          = { "DELETE", "/contacts/{contact_id}/tags/{id}", since = "2.12", id = "detachTagFromContact" },
    tag_conversation       = { "POST",   "/conversations/{conversation_id}/tags", body = true, since = "2.12", id = "attachTagToConversation" },
    untag_conversation     = { "DELETE", "/conversations/{conversation_id}/tags/{id}", body = true, since = "2.12", id = "detachTagFromConversation" },
    list                   = { "GET",    "/tags", since = "2.12", id = "listTags" },
    create                 = { "POST",   "/tags", body = true, since = "2.12", id = "createTag" },
    find                   = { "GET",    "/tags/{id}", since = "2.12", id = "findTag" },
    delete                 = { "DELETE", "/tags/{id}", since = "2.12", id = "deleteTag" },
    tag_ticket             = { "POST",   "/tickets/{ticket_id}/tags", body = true, since = "2.12", id = "attachTagToTicket" },
    untag_ticket           = { "DELETE", "/tickets/{ticket_id}/tags/{id}", body = true, since = "2.12", id = "detachTagFromTicket" },
    tag_article            = { "POST",   "/articles/{article_id}/tags", body = true, since = "2.16", id = "attachTagToArticle" },
    untag_article          = { "DELETE", "/articles/{article_id}/tags/{id}", since = "2.16", id = "detachTagFromArticle" },
    tag_internal_article   = { "POST",   "/internal_articles/{internal_article_id}/tags", body = true, since = "2.16", id = "attachTagToInternalArticle" },
    untag_internal_article = { "DELETE", "/internal_articles/{internal_article_id}/tags/{id}", since = "2.16", id = "detachTagFromInternalArticle" },
    tag_content_snippet    = { "POST",   "/content_snippets/{content_snippet_id}/tags", body = true, since = "2.16", id = "attachTagToContentSnippet" },
    untag_content_snippet  = { "DELETE", "/content_snippets/{content_snippet_id}/tags/{id}", since = "2.16", id = "detachTagFromContentSnippet" },
  },
  ["conversations"] = {
    list                     = { "GET",    "/conversations", params = true, query = { "per_page", "starting_after" }, page = "cursor", items = "conversations", since = "2.12", id = "listConversations" },
    create                   = { "POST",   "/conversations", body = true, since = "2.12", id = "createConversation" },
    find                     = { "GET",    "/conversations/{id}", params = true, query = { "display_as", "include_translations@2.14" }, since = "2.12", id = "retrieveConversation" },
    update                   = { "PUT",    "/conversations/{id}", body = true, query = { "display_as" }, since = "2.12", id = "updateConversation" },
    search                   = { "POST",   "/conversations/search", body = true, query = { "include_monitors@2.16", "include_scorecards@2.16" }, page = "search", idempotent = true, search = true, items = "conversations", since = "2.12", id = "searchConversations" },
    reply                    = { "POST",   "/conversations/{id}/reply", body = true, since = "2.12", id = "replyConversation" },
    manage                   = { "POST",   "/conversations/{id}/parts", body = true, since = "2.12", id = "manageConversation" },
    attach_contact_as_admin  = { "POST",   "/conversations/{id}/customers", body = true, since = "2.12", id = "attachContactToConversation" },
    detach_contact_as_admin  = { "DELETE", "/conversations/{conversation_id}/customers/{contact_id}", body = true, since = "2.12", id = "detachContactFromConversation" },
    redact_conversation_part = { "POST",   "/conversations/redact", body = true, since = "2.12", id = "redactConversation" },
    convert_to_ticket        = { "POST",   "/conversations/{id}/convert", body = true, since = "2.12", id = "convertConversationToTicket" },
    delete                   = { "DELETE", "/conversations/{conversation_id}", params = true, query = { "retain_metrics@2.16" }, since = "2.13", id = "deleteConversation" },
    list_handling_events     = { "GET",    "/conversations/{id}/handling_events", since = "2.15", id = "listHandlingEvents" },
    list_side_conversations  = { "GET",    "/conversations/{id}/side_conversations", params = true, query = { "page", "per_page" }, page = "page", items = "side_conversations", since = "2.16", id = "listSideConversations" },
    merge                    = { "POST",   "/conversations/{id}/merge", body = true, since = "2.16", id = "mergeConversation" },
    list_deleted_ids         = { "GET",    "/conversations/deleted", params = true, query = { "page", "per_page", "order" }, page = "page", items = "conversations", since = "2.16", id = "listDeletedConversationIds" },
  },
  ["data_attributes"] = {
    list   = { "GET",    "/data_attributes", params = true, query = { "model", "include_archived" }, since = "2.12", id = "lisDataAttributes" },
    create = { "POST",   "/data_attributes", body = true, since = "2.12", id = "createDataAttribute" },
    update = { "PUT",    "/data_attributes/{id}", body = true, since = "2.12", id = "updateDataAttribute" },
  },
  ["events"] = {
    create    = { "POST",   "/events", body = true, since = "2.12", id = "createDataEvent" },
    list      = { "GET",    "/events", params = true, query = { "user_id", "intercom_user_id", "email", "type", "summary" }, since = "2.12", id = "lisDataEvents" },
    summaries = { "POST",   "/events/summaries", body = true, since = "2.12", id = "dataEventSummaries" },
  },
  ["data_export"] = {
    create   = { "POST",   "/export/content/data", body = true, since = "2.12", id = "createDataExport" },
    find     = { "GET",    "/export/content/data/{job_identifier}", since = "2.12", id = "getDataExport" },
    cancel   = { "POST",   "/export/cancel/{job_identifier}", since = "2.12", id = "cancelDataExport" },
    download = { "GET",    "/download/content/data/{job_identifier}", download = true, since = "2.12", id = "downloadDataExport" },
  },
  ["messages"] = {
    create               = { "POST",   "/messages", body = true, since = "2.12", id = "createMessage" },
    find_whatsapp_status = { "GET",    "/messages/whatsapp/status", params = true, query = { "message_id" }, since = "2.16", id = "RetrieveWhatsAppMessageStatus" },
    get_whatsapp_status  = { "GET",    "/messages/status", params = true, query = { "ruleset_id", "per_page", "starting_after" }, page = "cursor", items = "events", since = "2.16", id = "getWhatsAppMessageStatus" },
  },
  ["news.items"] = {
    list   = { "GET",    "/news/news_items", params = true, page = "page", since = "2.12", id = "listNewsItems" },
    create = { "POST",   "/news/news_items", body = true, since = "2.12", id = "createNewsItem" },
    find   = { "GET",    "/news/news_items/{id}", since = "2.12", id = "retrieveNewsItem" },
    update = { "PUT",    "/news/news_items/{id}", body = true, since = "2.12", id = "updateNewsItem" },
    delete = { "DELETE", "/news/news_items/{id}", since = "2.12", id = "deleteNewsItem" },
  },
  ["news.feeds"] = {
    list_items = { "GET",    "/news/newsfeeds/{id}/items", params = true, page = "page", since = "2.12", id = "listLiveNewsfeedItems" },
    list       = { "GET",    "/news/newsfeeds", params = true, page = "page", since = "2.12", id = "listNewsfeeds" },
    find       = { "GET",    "/news/newsfeeds/{id}", since = "2.12", id = "retrieveNewsfeed" },
  },
  ["segments"] = {
    list = { "GET",    "/segments", params = true, query = { "include_count" }, page = "page", items = "segments", since = "2.12", id = "listSegments" },
    find = { "GET",    "/segments/{id}", since = "2.12", id = "retrieveSegment" },
  },
  ["subscription_types"] = {
    list = { "GET",    "/subscription_types", since = "2.12", id = "listSubscriptionTypes" },
  },
  ["phone_call_redirects"] = {
    create = { "POST",   "/phone_call_redirects", body = true, since = "2.12", id = "createPhoneSwitch" },
  },
  ["teams"] = {
    list        = { "GET",    "/teams", since = "2.12", id = "listTeams" },
    find        = { "GET",    "/teams/{id}", since = "2.12", id = "retrieveTeam" },
    get_metrics = { "GET",    "/teams/{team_id}/metrics", params = true, query = { "idle_threshold" }, since = "2.16", id = "getTeamMetrics" },
  },
  ["ticket_states"] = {
    list = { "GET",    "/ticket_states", since = "2.12", id = "listTicketStates" },
  },
  ["ticket_types.attributes"] = {
    create = { "POST",   "/ticket_types/{ticket_type_id}/attributes", body = true, since = "2.12", id = "createTicketTypeAttribute" },
    update = { "PUT",    "/ticket_types/{ticket_type_id}/attributes/{id}", body = true, since = "2.12", id = "updateTicketTypeAttribute" },
  },
  ["ticket_types"] = {
    list   = { "GET",    "/ticket_types", since = "2.12", id = "listTicketTypes" },
    create = { "POST",   "/ticket_types", body = true, since = "2.12", id = "createTicketType" },
    get    = { "GET",    "/ticket_types/{id}", since = "2.12", id = "getTicketType" },
    update = { "PUT",    "/ticket_types/{id}", body = true, since = "2.12", id = "updateTicketType" },
  },
  ["tickets"] = {
    reply               = { "POST",   "/tickets/{id}/reply", body = true, since = "2.12", id = "replyTicket" },
    create              = { "POST",   "/tickets", body = true, since = "2.12", id = "createTicket" },
    update              = { "PUT",    "/tickets/{id}", body = true, since = "2.12", id = "updateTicket" },
    get                 = { "GET",    "/tickets/{id}", since = "2.12", id = "getTicket" },
    search              = { "POST",   "/tickets/search", body = true, page = "search", idempotent = true, search = true, items = "tickets", since = "2.12", id = "searchTickets" },
    link_conversation   = { "POST",   "/tickets/{ticket_id}/linked_conversations", body = true, since = "2.16", id = "linkConversationToTicket" },
    unlink_conversation = { "DELETE", "/tickets/{ticket_id}/linked_conversations/{id}", since = "2.16", id = "unlinkConversationFromTicket" },
    enqueue_create      = { "POST",   "/tickets/enqueue", body = true, since = "2.14", id = "enqueueCreateTicket" },
    delete              = { "DELETE", "/tickets/{ticket_id}", since = "2.13", id = "deleteTicket" },
    change_type         = { "POST",   "/tickets/{ticket_id}/change_type", body = true, since = "2.16", id = "changeTicketType" },
  },
  ["visitors"] = {
    update           = { "PUT",    "/visitors", body = true, since = "2.12", id = "updateVisitor" },
    find             = { "GET",    "/visitors", params = true, query = { "user_id" }, since = "2.12", id = "retrieveVisitorWithUserId" },
    merge_to_contact = { "POST",   "/visitors/convert", body = true, since = "2.12", id = "convertVisitor" },
  },
  ["macros"] = {
    find = { "GET",    "/macros/{id}", since = "2.16", id = "getMacro" },
    list = { "GET",    "/macros", params = true, query = { "per_page", "starting_after", "updated_since" }, page = "cursor", since = "2.16", id = "listMacros" },
  },
  ["office_hours.exceptions"] = {
    find   = { "GET",    "/office_hours_schedules/{office_hours_schedule_id}/office_hours_exceptions/{id}", since = "2.16", id = "getOfficeHoursException" },
    update = { "PUT",    "/office_hours_schedules/{office_hours_schedule_id}/office_hours_exceptions/{id}", body = true, since = "2.16", id = "updateOfficeHoursException" },
    delete = { "DELETE", "/office_hours_schedules/{office_hours_schedule_id}/office_hours_exceptions/{id}", since = "2.16", id = "deleteOfficeHoursException" },
    list   = { "GET",    "/office_hours_schedules/{office_hours_schedule_id}/office_hours_exceptions", since = "2.16", id = "listOfficeHoursExceptions" },
    create = { "POST",   "/office_hours_schedules/{office_hours_schedule_id}/office_hours_exceptions", body = true, since = "2.16", id = "createOfficeHoursException" },
  },
  ["office_hours.schedules"] = {
    find   = { "GET",    "/office_hours_schedules/{id}", since = "2.16", id = "getOfficeHoursSchedule" },
    update = { "PUT",    "/office_hours_schedules/{id}", body = true, since = "2.16", id = "updateOfficeHoursSchedule" },
    delete = { "DELETE", "/office_hours_schedules/{id}", since = "2.16", id = "deleteOfficeHoursSchedule" },
    list   = { "GET",    "/office_hours_schedules", since = "2.16", id = "listOfficeHoursSchedules" },
    create = { "POST",   "/office_hours_schedules", body = true, since = "2.16", id = "createOfficeHoursSchedule" },
  },
  ["away_status_reasons"] = {
    list = { "GET",    "/away_status_reasons", since = "2.14", id = "listAwayStatusReasons" },
  },
  ["audiences"] = {
    list   = { "GET",    "/audiences", params = true, query = { "page", "per_page" }, page = "page", since = "2.16", id = "listAudiences" },
    create = { "POST",   "/audiences", body = true, since = "2.16", id = "createAudience" },
    find   = { "GET",    "/audiences/{id}", since = "2.16", id = "retrieveAudience" },
    update = { "PUT",    "/audiences/{id}", body = true, since = "2.16", id = "updateAudience" },
    delete = { "DELETE", "/audiences/{id}", since = "2.16", id = "deleteAudience" },
  },
  ["reporting_data_export"] = {
    enqueue       = { "POST",   "/export/reporting_data/enqueue", body = true, since = "2.14", id = "enqueueReportingDataExport" },
    find          = { "GET",    "/export/reporting_data/{job_identifier}", params = true, query = { "app_id", "client_id", "job_identifier" }, since = "2.14", id = "getReportingDataExport" },
    list_datasets = { "GET",    "/export/reporting_data/get_datasets", since = "2.14", id = "listReportingDataDatasets" },
    download      = { "GET",    "/download/reporting_data/{job_identifier}", params = true, query = { "app_id", "job_identifier" }, download = true, since = "2.14", id = "downloadReportingDataExport" },
  },
  ["fin_agent"] = {
    start_conversation = { "POST",   "/fin/start", body = true, since = "2.14", id = "startFinConversation" },
    reply              = { "POST",   "/fin/reply", body = true, since = "2.14", id = "replyToFin" },
    submit_csat        = { "POST",   "/fin/csat", body = true, since = "2.14", id = "submitFinCsat" },
  },
  ["internal_articles"] = {
    list   = { "GET",    "/internal_articles", params = true, page = "page", since = "2.13", id = "listInternalArticles" },
    create = { "POST",   "/internal_articles", body = true, since = "2.13", id = "createInternalArticle" },
    find   = { "GET",    "/internal_articles/{internal_article_id}", since = "2.13", id = "retrieveInternalArticle" },
    update = { "PUT",    "/internal_articles/{internal_article_id}", body = true, since = "2.13", id = "updateInternalArticle" },
    delete = { "DELETE", "/internal_articles/{internal_article_id}", since = "2.13", id = "deleteInternalArticle" },
    search = { "GET",    "/internal_articles/search", params = true, query = { "folder_id" }, page = "page", items = "data.internal_articles", since = "2.13", id = "searchInternalArticles" },
  },
  ["ip_allowlist"] = {
    find   = { "GET",    "/ip_allowlist", since = "2.14", id = "getIpAllowlist" },
    update = { "PUT",    "/ip_allowlist", body = true, since = "2.14", id = "updateIpAllowlist" },
  },
  ["banners"] = {
    list_for_contact = { "GET",    "/contacts/{id}/banners", since = "2.16", id = "listContactBanners" },
    dismiss          = { "POST",   "/contacts/{id}/banners/{view_id}/dismiss", since = "2.16", id = "dismissContactBanner" },
  },
  ["content"] = {
    bulk_actions = { "POST",   "/content/bulk_actions", body = true, since = "2.16", id = "bulkContentActions" },
    search       = { "GET",    "/content/search", params = true, query = { "query", "page", "per_page", "states", "locales", "tag_ids", "tag_operator", "any_tag_ids", "folder_ids", "folder_entity_type", "content_types", "copilot_state", "fin_service_state", "fin_sales_state", "created_by_ids", "last_updated_by_ids", "created_at_after", "created_at_before", "updated_at_after", "updated_at_before" }, page = "page", since = "2.16", id = "searchContent" },
  },
  ["content_snippets"] = {
    list   = { "GET",    "/content_snippets", params = true, query = { "page", "per_page" }, page = "page", since = "2.16", id = "listContentSnippets" },
    create = { "POST",   "/content_snippets", body = true, since = "2.16", id = "createContentSnippet" },
    find   = { "GET",    "/content_snippets/{id}", since = "2.16", id = "getContentSnippet" },
    update = { "PUT",    "/content_snippets/{id}", body = true, since = "2.16", id = "updateContentSnippet" },
    delete = { "DELETE", "/content_snippets/{id}", since = "2.16", id = "deleteContentSnippet" },
  },
  ["conversation_attributes"] = {
    list          = { "GET",    "/conversations/attributes", params = true, query = { "include_archived" }, since = "2.16", id = "listConversationAttributes" },
    create        = { "POST",   "/conversations/attributes", body = true, since = "2.16", id = "createConversationAttribute" },
    find          = { "GET",    "/conversations/attributes/{id}", since = "2.16", id = "getConversationAttribute" },
    update        = { "PUT",    "/conversations/attributes/{id}", body = true, since = "2.16", id = "updateConversationAttribute" },
    delete        = { "DELETE", "/conversations/attributes/{id}", since = "2.16", id = "deleteConversationAttribute" },
    create_option = { "POST",   "/conversations/attributes/{id}/options", body = true, since = "2.16", id = "createConversationAttributeOption" },
    update_option = { "PUT",    "/conversations/attributes/{id}/options/{option_id}", body = true, since = "2.16", id = "updateConversationAttributeOption" },
    delete_option = { "DELETE", "/conversations/attributes/{id}/options/{option_id}", since = "2.16", id = "deleteConversationAttributeOption" },
  },
  ["custom_object_instances"] = {
    list                  = { "GET",    "/custom_object_instances/{custom_object_type_identifier}", params = true, query = { "external_id", "references_contact_id@2.16", "references_conversation_id@2.16", "page@2.16", "per_page@2.16" }, page = "page", single_when = "external_id", since = "2.13", id = "listCustomObjectInstances", former_id = "getCustomObjectInstancesByExternalId" },
    create                = { "POST",   "/custom_object_instances/{custom_object_type_identifier}", body = true, since = "2.13", id = "createCustomObjectInstances" },
    delete_by_external_id = { "DELETE", "/custom_object_instances/{custom_object_type_identifier}", params = true, query = { "external_id" }, since = "2.13", id = "deleteCustomObjectInstancesById" },
    find                  = { "GET",    "/custom_object_instances/{custom_object_type_identifier}/{custom_object_instance_id}", since = "2.13", id = "getCustomObjectInstancesById" },
    delete                = { "DELETE", "/custom_object_instances/{custom_object_type_identifier}/{custom_object_instance_id}", since = "2.13", id = "deleteCustomObjectInstancesByExternalId" },
  },
  ["data_connectors"] = {
    list                   = { "GET",    "/data_connectors", params = true, query = { "per_page", "starting_after" }, page = "cursor", since = "2.16", id = "listDataConnectors" },
    create                 = { "POST",   "/data_connectors", body = true, since = "2.16", id = "createDataConnector" },
    find                   = { "GET",    "/data_connectors/{id}", params = true, query = { "state_version" }, since = "2.16", id = "RetrieveDataConnector" },
    delete                 = { "DELETE", "/data_connectors/{id}", since = "2.16", id = "deleteDataConnector" },
    update                 = { "PATCH",  "/data_connectors/{id}", body = true, since = "2.16", id = "updateDataConnector" },
    list_execution_results = { "GET",    "/data_connectors/{data_connector_id}/execution_results", params = true, query = { "per_page", "starting_after", "success", "error_type", "start_ts", "end_ts", "include_bodies" }, page = "cursor", since = "2.16", id = "listDataConnectorExecutionResults" },
    find_execution_result  = { "GET",    "/data_connectors/{data_connector_id}/execution_results/{id}", since = "2.16", id = "showDataConnectorExecutionResult" },
  },
  ["jobs"] = {
    status = { "GET",    "/jobs/status/{job_id}", since = "2.14", id = "jobsStatus" },
  },
  ["calls"] = {
    list                                 = { "GET",    "/calls", params = true, query = { "page", "per_page" }, page = "page", since = "2.14", id = "listCalls" },
    find                                 = { "GET",    "/calls/{call_id}", since = "2.14", id = "showCall" },
    show_recording                       = { "GET",    "/calls/{call_id}/recording", redirect = true, since = "2.14", id = "showCallRecording" },
    show_transcript                      = { "GET",    "/calls/{call_id}/transcript", text = true, since = "2.14", id = "showCallTranscript" },
    list_with_transcripts                = { "POST",   "/calls/search", body = true, idempotent = true, since = "2.14", id = "listCallsWithTranscripts" },
    register_fin_voice                   = { "POST",   "/fin_voice/register", body = true, since = "2.15", id = "registerFinVoiceCall" },
    collect_fin_voice_by_id              = { "GET",    "/fin_voice/collect/{id}", since = "2.15", id = "collectFinVoiceCallById" },
    collect_fin_voice_by_external_id     = { "GET",    "/fin_voice/external_id/{external_id}", since = "2.15", id = "collectFinVoiceCallByExternalId" },
    collect_fin_voice_by_phone_number    = { "GET",    "/fin_voice/phone_number/{phone_number}", since = "2.15", id = "collectFinVoiceCallByPhoneNumber" },
    collect_fin_voice_by_conversation_id = { "GET",    "/fin_voice/conversation/{conversation_id}", since = "2.15", id = "collectFinVoiceCallsByConversationId" },
  },
  ["brands"] = {
    list = { "GET",    "/brands", since = "2.15", id = "listBrands" },
    find = { "GET",    "/brands/{id}", since = "2.15", id = "retrieveBrand" },
  },
  ["emails"] = {
    list = { "GET",    "/emails", since = "2.15", id = "listEmails" },
    find = { "GET",    "/emails/{id}", since = "2.15", id = "retrieveEmail" },
  },
  ["workflows"] = {
    export = { "GET",    "/export/workflows/{id}", since = "2.15", id = "exportWorkflow" },
  },
}
