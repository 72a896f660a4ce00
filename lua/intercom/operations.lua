-- Every operation of the Intercom REST API 2.12, as data (DESIGN.md: "Operations are data").
--
-- One line per operation: { METHOD, PATH, [body|params] = true, [page = style], [items = key],
--                           [idempotent = true], [query = true], [download = true], id = operationId }
-- * Path parameters come first in the Lua call, in the order they appear in PATH.
-- * `body = true`: the next argument is a table sent as the JSON body.
--   `params = true`: the next argument is a table sent as the query string.
-- * `page`: the result is a Page (lua/intercom/pager.lua). Styles: "cursor" (pages.next.starting_after,
--   sent back as a query parameter), "search" (the same cursor, sent back in the body's pagination),
--   "page" (page / total_pages), "scroll" (scroll_param). `items` names the array of the page when it is
--   not `data` (a dotted path for a nested one: "data.articles").
-- * `query = true`: a search; `body.query`, when present, is checked with intercom.query.validate
--   before anything is sent.
-- * `idempotent = true`: a POST that only reads (search, list), so it may be retried like a GET.
-- * `id`: the operationId in intercom-openapi-2.12.yaml; the coverage spec checks METHOD and PATH
--   against it, and the README's operations table is generated from this file.
--
-- Adding an endpoint is adding one line here; no resource file contains request code.

return {
  ["admins"] = {
    identify               = { "GET",    "/me", id = "identifyAdmin" },
    away                   = { "PUT",    "/admins/{id}/away", body = true, id = "setAwayAdmin" },
    list_all_activity_logs = { "GET",    "/admins/activity_logs", params = true, page = "cursor", items = "activity_logs", id = "listActivityLogs" },
    list                   = { "GET",    "/admins", params = true, id = "listAdmins" },
    find                   = { "GET",    "/admins/{id}", id = "retrieveAdmin" },
  },
  ["ai_content"] = {
    list_content_import_sources  = { "GET",    "/ai/content_import_sources", params = true, page = "page", id = "listContentImportSources" },
    create_content_import_source = { "POST",   "/ai/content_import_sources", body = true, id = "createContentImportSource" },
    delete_content_import_source = { "DELETE", "/ai/content_import_sources/{id}", id = "deleteContentImportSource" },
    get_content_import_source    = { "GET",    "/ai/content_import_sources/{id}", id = "getContentImportSource" },
    update_content_import_source = { "PUT",    "/ai/content_import_sources/{id}", body = true, id = "updateContentImportSource" },
    list_external_pages          = { "GET",    "/ai/external_pages", params = true, page = "page", id = "listExternalPages" },
    create_external_page         = { "POST",   "/ai/external_pages", body = true, id = "createExternalPage" },
    delete_external_page         = { "DELETE", "/ai/external_pages/{id}", id = "deleteExternalPage" },
    get_external_page            = { "GET",    "/ai/external_pages/{id}", id = "getExternalPage" },
    update_external_page         = { "PUT",    "/ai/external_pages/{id}", body = true, id = "updateExternalPage" },
  },
  ["articles"] = {
    list   = { "GET",    "/articles", params = true, page = "page", id = "listArticles" },
    create = { "POST",   "/articles", body = true, id = "createArticle" },
    find   = { "GET",    "/articles/{id}", id = "retrieveArticle" },
    update = { "PUT",    "/articles/{id}", body = true, id = "updateArticle" },
    delete = { "DELETE", "/articles/{id}", id = "deleteArticle" },
    search = { "GET",    "/articles/search", params = true, page = "page", items = "data.articles", id = "searchArticles" },
  },
  ["collections"] = {
    list   = { "GET",    "/help_center/collections", params = true, page = "page", id = "listAllCollections" },
    create = { "POST",   "/help_center/collections", body = true, id = "createCollection" },
    find   = { "GET",    "/help_center/collections/{id}", id = "retrieveCollection" },
    update = { "PUT",    "/help_center/collections/{id}", body = true, id = "updateCollection" },
    delete = { "DELETE", "/help_center/collections/{id}", id = "deleteCollection" },
  },
  ["help_centers"] = {
    find = { "GET",    "/help_center/help_centers/{id}", id = "retrieveHelpCenter" },
    list = { "GET",    "/help_center/help_centers", id = "listHelpCenters" },
  },
  ["companies"] = {
    create_or_update       = { "POST",   "/companies", body = true, id = "createOrUpdateCompany" },
    retrieve               = { "GET",    "/companies", params = true, page = "page", id = "retrieveCompany" },
    find                   = { "GET",    "/companies/{id}", id = "RetrieveACompanyById" },
    update                 = { "PUT",    "/companies/{id}", id = "UpdateCompany" },
    delete                 = { "DELETE", "/companies/{id}", id = "deleteCompany" },
    list_attached_contacts = { "GET",    "/companies/{id}/contacts", params = true, page = "page", id = "ListAttachedContacts" },
    list_attached_segments = { "GET",    "/companies/{id}/segments", id = "ListAttachedSegmentsForCompanies" },
    list                   = { "POST",   "/companies/list", params = true, page = "page", idempotent = true, id = "listAllCompanies" },
    scroll                 = { "GET",    "/companies/scroll", params = true, page = "scroll", id = "scrollOverAllCompanies" },
    attach_contact         = { "POST",   "/contacts/{id}/companies", body = true, id = "attachContactToACompany" },
    detach_contact         = { "DELETE", "/contacts/{contact_id}/companies/{id}", id = "detachContactFromACompany" },
  },
  ["contacts"] = {
    list_attached_companies     = { "GET",    "/contacts/{id}/companies", params = true, page = "page", items = "companies", id = "listCompaniesForAContact" },
    list_attached_segments      = { "GET",    "/contacts/{contact_id}/segments", id = "listSegmentsForAContact" },
    list_attached_subscriptions = { "GET",    "/contacts/{contact_id}/subscriptions", id = "listSubscriptionsForAContact" },
    attach_subscription         = { "POST",   "/contacts/{contact_id}/subscriptions", body = true, id = "attachSubscriptionTypeToContact" },
    detach_subscription         = { "DELETE", "/contacts/{contact_id}/subscriptions/{id}", id = "detachSubscriptionTypeToContact" },
    list_attached_tags          = { "GET",    "/contacts/{contact_id}/tags", id = "listTagsForAContact" },
    update                      = { "PUT",    "/contacts/{id}", body = true, id = "UpdateContact" },
    find                        = { "GET",    "/contacts/{id}", id = "ShowContact" },
    delete                      = { "DELETE", "/contacts/{id}", id = "DeleteContact" },
    merge_lead_in_user          = { "POST",   "/contacts/merge", body = true, id = "MergeContact" },
    search                      = { "POST",   "/contacts/search", body = true, page = "search", idempotent = true, query = true, id = "SearchContacts" },
    list                        = { "GET",    "/contacts", params = true, page = "cursor", id = "ListContacts" },
    create                      = { "POST",   "/contacts", body = true, id = "CreateContact" },
    archive                     = { "POST",   "/contacts/{id}/archive", id = "ArchiveContact" },
    unarchive                   = { "POST",   "/contacts/{id}/unarchive", id = "UnarchiveContact" },
  },
  ["notes"] = {
    list   = { "GET",    "/contacts/{id}/notes", params = true, page = "page", id = "listNotes" },
    create = { "POST",   "/contacts/{id}/notes", body = true, id = "createNote" },
    find   = { "GET",    "/notes/{id}", id = "retrieveNote" },
  },
  ["tags"] = {
    tag_contact        = { "POST",   "/contacts/{contact_id}/tags", body = true, id = "attachTagToContact" },
    untag_contact      = { "DELETE", "/contacts/{contact_id}/tags/{id}", id = "detachTagFromContact" },
    tag_conversation   = { "POST",   "/conversations/{conversation_id}/tags", body = true, id = "attachTagToConversation" },
    untag_conversation = { "DELETE", "/conversations/{conversation_id}/tags/{id}", body = true, id = "detachTagFromConversation" },
    list               = { "GET",    "/tags", id = "listTags" },
    create             = { "POST",   "/tags", body = true, id = "createTag" },
    find               = { "GET",    "/tags/{id}", id = "findTag" },
    delete             = { "DELETE", "/tags/{id}", id = "deleteTag" },
    tag_ticket         = { "POST",   "/tickets/{ticket_id}/tags", body = true, id = "attachTagToTicket" },
    untag_ticket       = { "DELETE", "/tickets/{ticket_id}/tags/{id}", body = true, id = "detachTagFromTicket" },
  },
  ["conversations"] = {
    list                     = { "GET",    "/conversations", params = true, page = "cursor", items = "conversations", id = "listConversations" },
    create                   = { "POST",   "/conversations", body = true, id = "createConversation" },
    find                     = { "GET",    "/conversations/{id}", params = true, id = "retrieveConversation" },
    update                   = { "PUT",    "/conversations/{id}", body = true, id = "updateConversation" },
    search                   = { "POST",   "/conversations/search", body = true, page = "search", idempotent = true, query = true, items = "conversations", id = "searchConversations" },
    reply                    = { "POST",   "/conversations/{id}/reply", body = true, id = "replyConversation" },
    manage                   = { "POST",   "/conversations/{id}/parts", body = true, id = "manageConversation" },
    attach_contact_as_admin  = { "POST",   "/conversations/{id}/customers", body = true, id = "attachContactToConversation" },
    detach_contact_as_admin  = { "DELETE", "/conversations/{conversation_id}/customers/{contact_id}", body = true, id = "detachContactFromConversation" },
    redact_conversation_part = { "POST",   "/conversations/redact", body = true, id = "redactConversation" },
    convert_to_ticket        = { "POST",   "/conversations/{id}/convert", body = true, id = "convertConversationToTicket" },
  },
  ["data_attributes"] = {
    list   = { "GET",    "/data_attributes", params = true, id = "lisDataAttributes" },
    create = { "POST",   "/data_attributes", body = true, id = "createDataAttribute" },
    update = { "PUT",    "/data_attributes/{id}", body = true, id = "updateDataAttribute" },
  },
  ["events"] = {
    create    = { "POST",   "/events", body = true, id = "createDataEvent" },
    list      = { "GET",    "/events", params = true, id = "lisDataEvents" },
    summaries = { "POST",   "/events/summaries", body = true, id = "dataEventSummaries" },
  },
  ["data_export"] = {
    create   = { "POST",   "/export/content/data", body = true, id = "createDataExport" },
    find     = { "GET",    "/export/content/data/{job_identifier}", id = "getDataExport" },
    cancel   = { "POST",   "/export/cancel/{job_identifier}", id = "cancelDataExport" },
    download = { "GET",    "/download/content/data/{job_identifier}", download = true, id = "downloadDataExport" },
  },
  ["messages"] = {
    create = { "POST",   "/messages", body = true, id = "createMessage" },
  },
  ["news.items"] = {
    list   = { "GET",    "/news/news_items", params = true, page = "page", id = "listNewsItems" },
    create = { "POST",   "/news/news_items", body = true, id = "createNewsItem" },
    find   = { "GET",    "/news/news_items/{id}", id = "retrieveNewsItem" },
    update = { "PUT",    "/news/news_items/{id}", body = true, id = "updateNewsItem" },
    delete = { "DELETE", "/news/news_items/{id}", id = "deleteNewsItem" },
  },
  ["news.feeds"] = {
    list_items = { "GET",    "/news/newsfeeds/{id}/items", params = true, page = "page", id = "listLiveNewsfeedItems" },
    list       = { "GET",    "/news/newsfeeds", params = true, page = "page", id = "listNewsfeeds" },
    find       = { "GET",    "/news/newsfeeds/{id}", id = "retrieveNewsfeed" },
  },
  ["segments"] = {
    list = { "GET",    "/segments", params = true, page = "page", items = "segments", id = "listSegments" },
    find = { "GET",    "/segments/{id}", id = "retrieveSegment" },
  },
  ["subscription_types"] = {
    list = { "GET",    "/subscription_types", id = "listSubscriptionTypes" },
  },
  ["phone_call_redirects"] = {
    create = { "POST",   "/phone_call_redirects", body = true, id = "createPhoneSwitch" },
  },
  ["teams"] = {
    list = { "GET",    "/teams", id = "listTeams" },
    find = { "GET",    "/teams/{id}", id = "retrieveTeam" },
  },
  ["ticket_states"] = {
    list = { "GET",    "/ticket_states", id = "listTicketStates" },
  },
  ["ticket_types.attributes"] = {
    create = { "POST",   "/ticket_types/{ticket_type_id}/attributes", body = true, id = "createTicketTypeAttribute" },
    update = { "PUT",    "/ticket_types/{ticket_type_id}/attributes/{id}", body = true, id = "updateTicketTypeAttribute" },
  },
  ["ticket_types"] = {
    list   = { "GET",    "/ticket_types", id = "listTicketTypes" },
    create = { "POST",   "/ticket_types", body = true, id = "createTicketType" },
    get    = { "GET",    "/ticket_types/{id}", id = "getTicketType" },
    update = { "PUT",    "/ticket_types/{id}", body = true, id = "updateTicketType" },
  },
  ["tickets"] = {
    reply  = { "POST",   "/tickets/{id}/reply", body = true, id = "replyTicket" },
    create = { "POST",   "/tickets", body = true, id = "createTicket" },
    update = { "PUT",    "/tickets/{id}", body = true, id = "updateTicket" },
    get    = { "GET",    "/tickets/{id}", id = "getTicket" },
    search = { "POST",   "/tickets/search", body = true, page = "search", idempotent = true, query = true, items = "tickets", id = "searchTickets" },
  },
  ["visitors"] = {
    update           = { "PUT",    "/visitors", body = true, id = "updateVisitor" },
    find             = { "GET",    "/visitors", params = true, id = "retrieveVisitorWithUserId" },
    merge_to_contact = { "POST",   "/visitors/convert", body = true, id = "convertVisitor" },
  },
}
