"""All post mutations as one type for the schema."""
import strawberry

from resolvers.posts.mutations import post_approve as approve_m
from resolvers.posts.mutations import post_delete as delete_m
from resolvers.posts.mutations import post_edit as edit_m
from resolvers.posts.mutations import post_reject as reject_m
from resolvers.posts.mutations import post_remove as remove_m
from resolvers.posts.mutations import post_settings_set as settings_m
from resolvers.posts.mutations import post_submit as submit_m


@strawberry.type
class PostMutations:
    post_submit = submit_m.field
    post_edit = edit_m.field
    post_delete = delete_m.field
    post_approve = approve_m.field
    post_reject = reject_m.field
    post_remove = remove_m.field
    post_settings_set = settings_m.field
